//! Rule H's history in Redis: per user, an order (a sorted set read in lex order) and the
//! entries (a hash), both in the user's slot; a global time index for the retention sweep,
//! updated beside them as the device cleanup index is (a cluster has no cross-slot script).
//!
//! Members are the entry's position as text, `<instant><id>`: the instant's microseconds
//! as 16 hex digits of an order-keeping unsigned value, then the UUID's 32. Lex order is
//! then (at, id) order, so a page is one `ZREVRANGEBYLEX` from the cursor, exact under ties.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trusted_devices_core::audit::{AuditEntry, AuditKind, AuditLog, AuditPosition};
use trusted_devices_core::{DeviceId, Location, StorageError, UserId, async_trait};
use uuid::Uuid;

use crate::error::storage_error;
use crate::keys::{user_from_tag, user_tag};
use crate::scripts::{AUDIT_APPEND, AUDIT_PAGE, AUDIT_REMOVE};
use crate::store::RedisStore;

/// The stored entry, format version 1.
#[derive(Serialize, Deserialize)]
struct Stored {
    v: u8,
    user_id: UserId,
    at: i64,
    kind: String,
    actor: Option<DeviceId>,
    target: Option<DeviceId>,
    target_name: Option<String>,
    detail: Option<String>,
    client_ip: Option<std::net::IpAddr>,
    location: Option<Location>,
}

/// `<instant><id>`, ordered as (at, id).
fn member(position: AuditPosition) -> String {
    // Flipping the sign bit maps i64 order onto u64 order (instants before 1970 included).
    let at = position.at.timestamp_micros().cast_unsigned() ^ (1 << 63);
    format!("{at:016x}{}", position.id.simple())
}

fn corrupt(error: impl std::fmt::Display) -> StorageError {
    StorageError::corrupt(format!("audit entry: {error}"))
}

fn decode(id_hex: &str, json: &str) -> Result<AuditEntry, StorageError> {
    let stored: Stored = serde_json::from_str(json).map_err(corrupt)?;
    if stored.v != 1 {
        return Err(corrupt(format!("stored format version {}", stored.v)));
    }
    Ok(AuditEntry {
        id: Uuid::parse_str(id_hex).map_err(corrupt)?,
        user_id: stored.user_id,
        at: DateTime::from_timestamp_micros(stored.at).ok_or_else(|| corrupt("instant"))?,
        kind: AuditKind::from_name(&stored.kind).ok_or_else(|| corrupt("unknown kind"))?,
        actor: stored.actor,
        target: stored.target,
        target_name: stored.target_name,
        detail: stored.detail,
        client_ip: stored.client_ip,
        location: stored.location,
    })
}

impl<C> RedisStore<C> {
    fn audit_expiry(&self, at: DateTime<Utc>) -> i64 {
        let lifetime = i64::try_from(self.audit_lifetime().as_millis()).unwrap_or(i64::MAX);
        at.timestamp_millis().saturating_add(lifetime)
    }
}

#[async_trait]
impl<C> AuditLog for RedisStore<C>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync,
{
    async fn append(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        let stored = Stored {
            v: 1,
            user_id: entry.user_id.clone(),
            at: entry.at.timestamp_micros(),
            kind: entry.kind.name().to_owned(),
            actor: entry.actor,
            target: entry.target,
            target_name: entry.target_name.clone(),
            detail: entry.detail.clone(),
            client_ip: entry.client_ip,
            location: entry.location.clone(),
        };
        let json = serde_json::to_string(&stored).map_err(corrupt)?;
        let member = member(entry.position());
        let expire_at = self.audit_expiry(entry.at);
        let mut connection = self.connection.clone();
        let mut invocation = AUDIT_APPEND.prepare_invoke();
        invocation
            .key(self.keys.audit_order(&entry.user_id))
            .key(self.keys.audit_entries(&entry.user_id))
            .arg(&member)
            .arg(json)
            .arg(expire_at);
        invocation
            .invoke_async::<i64>(&mut connection)
            .await
            .map_err(storage_error)?;
        let indexed = format!("{member}|{}", user_tag(&entry.user_id));
        self.index_member(&self.keys.audit_times(), &indexed, 0, expire_at)
            .await
    }

    async fn page(
        &self,
        user: &UserId,
        before: Option<AuditPosition>,
        limit: NonZeroU32,
    ) -> Result<Vec<AuditEntry>, StorageError> {
        let bound = before.map_or_else(
            || "+".to_owned(),
            |position| format!("({}", member(position)),
        );
        let mut connection = self.connection.clone();
        let mut invocation = AUDIT_PAGE.prepare_invoke();
        invocation
            .key(self.keys.audit_order(user))
            .key(self.keys.audit_entries(user))
            .arg(bound)
            .arg(limit.get());
        let flat: Vec<Option<String>> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(storage_error)?;
        flat.chunks(2)
            .filter_map(|pair| match pair {
                // An order member whose entry is gone (removed between two reads): skipped.
                [Some(member), Some(json)] => Some((member, json)),
                _ => None,
            })
            .map(|(member, json)| decode(member.get(16..).unwrap_or_default(), json))
            .collect()
    }

    async fn delete_before(
        &self,
        cutoff: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let bound = format!(
            "({}",
            member(AuditPosition {
                at: cutoff,
                id: Uuid::nil()
            })
        );
        let mut connection = self.connection.clone();
        let times = self.keys.audit_times();
        let indexed: Vec<String> = redis::cmd("ZRANGEBYLEX")
            .arg(&times)
            .arg("-")
            .arg(bound)
            .arg("LIMIT")
            .arg(0)
            .arg(batch.get())
            .query_async(&mut connection)
            .await
            .map_err(storage_error)?;
        let mut by_user: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in &indexed {
            if let Some((member, tag)) = item.split_once('|') {
                by_user
                    .entry(tag.to_owned())
                    .or_default()
                    .push(member.to_owned());
            }
        }
        for (tag, members) in by_user {
            // An index entry whose tag this crate did not write names no history.
            let Some(user) = user_from_tag(&tag) else {
                continue;
            };
            let mut invocation = AUDIT_REMOVE.prepare_invoke();
            invocation
                .key(self.keys.audit_order(&user))
                .key(self.keys.audit_entries(&user));
            for member in &members {
                invocation.arg(member);
            }
            invocation
                .invoke_async::<i64>(&mut connection)
                .await
                .map_err(storage_error)?;
        }
        if !indexed.is_empty() {
            redis::cmd("ZREM")
                .arg(&times)
                .arg(&indexed)
                .query_async::<i64>(&mut connection)
                .await
                .map_err(storage_error)?;
        }
        Ok(u64::try_from(indexed.len()).unwrap_or(u64::MAX))
    }
}
