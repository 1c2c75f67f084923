//! Rule H, read: the acting device's user's history, newest first.

use std::num::NonZeroU32;

use crate::audit::{AUDIT_PAGE_MAX, AuditCursor, AuditEntry};
use crate::error::Error;
use crate::service::{Authenticated, TrustedDevices};

/// One page of a user's history and the cursor of the next, if there may be one.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityPage {
    /// Entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<AuditCursor>,
    /// Whether this service keeps a history at all (an audit log was given to the
    /// builder): without one the page is empty because nothing is recorded, not because
    /// nothing happened, and the answer says so.
    pub kept: bool,
}

impl TrustedDevices {
    /// The user's history (rule H), newest first: at most `limit` entries (at most
    /// [`AUDIT_PAGE_MAX`]), after `cursor` when given. Without an audit log: no entries and
    /// [`ActivityPage::kept`] false.
    pub async fn activity(
        &self,
        acting: &Authenticated,
        cursor: Option<AuditCursor>,
        limit: NonZeroU32,
    ) -> Result<ActivityPage, Error> {
        let Some(audit) = &self.inner.audit else {
            return Ok(ActivityPage {
                entries: Vec::new(),
                next_cursor: None,
                kept: false,
            });
        };
        let limit = limit.min(NonZeroU32::new(AUDIT_PAGE_MAX).unwrap_or(NonZeroU32::MIN));
        let before = cursor.map(|cursor| cursor.position());
        let entries = audit.page(&acting.device.user_id, before, limit).await?;
        let full = entries.len() == usize::try_from(limit.get()).unwrap_or(usize::MAX);
        let next_cursor = entries
            .last()
            .filter(|_| full)
            .map(|last| AuditCursor::after(last.position()));
        Ok(ActivityPage {
            entries,
            next_cursor,
            kept: true,
        })
    }
}
