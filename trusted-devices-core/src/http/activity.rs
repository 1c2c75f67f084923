//! `GET /devices/activity?cursor=&limit=` (rule H): its query and its JSON.

use std::net::IpAddr;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audit::{AUDIT_PAGE_MAX, AuditCursor, AuditEntry};
use crate::domain::DeviceId;
use crate::error::InputError;
use crate::http::views::{LocationView, rfc3339};
use crate::service::ActivityPage;

/// Entries a page holds when the client names no `limit`.
const DEFAULT_LIMIT: u32 = 20;
/// Longer query strings are refused unread.
const QUERY_MAX_BYTES: usize = 256;

/// The route's query: `cursor` (a previous page's `next_cursor`) and `limit` (1 to 100,
/// default 20). Unknown parameters are refused, like unknown body fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ActivityQuery {
    pub(crate) cursor: Option<AuditCursor>,
    pub(crate) limit: NonZeroU32,
}

impl ActivityQuery {
    pub(crate) fn parse(query: Option<&str>) -> Result<Self, InputError> {
        let mut parsed = Self {
            cursor: None,
            limit: NonZeroU32::new(DEFAULT_LIMIT).unwrap_or(NonZeroU32::MIN),
        };
        let query = query.unwrap_or_default();
        if query.len() > QUERY_MAX_BYTES {
            return Err(InputError::TooLong {
                field: "query",
                max: QUERY_MAX_BYTES,
                unit: "bytes",
            });
        }
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                // Cursors are base64url: nothing in them is ever percent-encoded.
                "cursor" if !value.is_empty() => {
                    let cursor = AuditCursor::parse(value)
                        .map_err(|_| InputError::Malformed { field: "cursor" })?;
                    parsed.cursor = Some(cursor);
                }
                "cursor" => {}
                "limit" => {
                    parsed.limit = value
                        .parse::<u32>()
                        .ok()
                        .filter(|limit| *limit <= AUDIT_PAGE_MAX)
                        .and_then(NonZeroU32::new)
                        .ok_or(InputError::Malformed { field: "limit" })?;
                }
                _ => return Err(InputError::Malformed { field: "query" }),
            }
        }
        Ok(parsed)
    }
}

/// One history entry as clients see it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct EntryView<'a> {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    id: uuid::Uuid,
    #[serde(serialize_with = "rfc3339")]
    at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::http::schema::ActivityKind))]
    kind: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    actor_device_id: Option<DeviceId>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    device_id: Option<DeviceId>,
    device_name: Option<&'a str>,
    detail: Option<&'a str>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    ip: Option<IpAddr>,
    location: Option<LocationView<'a>>,
}

impl<'a> EntryView<'a> {
    fn new(entry: &'a AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: entry.at,
            kind: entry.kind.name(),
            actor_device_id: entry.actor,
            device_id: entry.target,
            device_name: entry.target_name.as_deref(),
            detail: entry.detail.as_deref(),
            ip: entry.client_ip,
            location: entry.location.as_ref().map(LocationView::new),
        }
    }
}

/// SPEC §6: `{events: [...], next_cursor}`, and whether a history is kept at all: a
/// service built without an audit log answers `history_kept: false` and says so in words,
/// so that an empty list never passes for "nothing happened".
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ActivityView<'a> {
    events: Vec<EntryView<'a>>,
    next_cursor: Option<String>,
    history_kept: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
}

impl<'a> ActivityView<'a> {
    pub(crate) fn new(page: &'a ActivityPage) -> Self {
        Self {
            events: page.entries.iter().map(EntryView::new).collect(),
            next_cursor: page.next_cursor.map(|cursor| cursor.to_string()),
            history_kept: page.kept,
            note: (!page.kept).then_some(
                "this service keeps no history of sign-ins and device changes \
                 (built without an audit log)",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_reads_cursor_and_limit_and_refuses_the_rest() {
        let limit = |query| ActivityQuery::parse(query).ok().map(|q| q.limit.get());
        assert_eq!(limit(None), Some(20));
        assert_eq!(limit(Some("limit=5")), Some(5));
        let empty_cursor = ActivityQuery::parse(Some("cursor=&limit=1")).ok();
        assert_eq!(empty_cursor.map(|q| q.cursor), Some(None));
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "cursor=zz",
            "other=1",
            &"a".repeat(300),
        ] {
            assert!(ActivityQuery::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
