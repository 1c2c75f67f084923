//! Rule H: every security event of a user, appended to an audit log that outlives the
//! devices it names, read newest first by cursor, and emptied of entries older than the
//! retention by cleanup.
//!
//! The service writes entries from its events (see [`AuditEntry`]); writing one never fails
//! the request that caused it (a failure is logged). Stores keep entries as data: the
//! order (`at`, then `id`) and the cut-off of a deletion are the core's.

mod cursor;
mod entry;
mod memory;

use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::UserId;
use crate::error::StorageError;

pub use cursor::{AuditCursor, BadCursor};
pub use entry::{AuditEntry, AuditKind, AuditPosition};
pub(crate) use entry::{Cause, entries_for};
pub use memory::MemoryAuditLog;

/// The most entries one page holds.
pub const AUDIT_PAGE_MAX: u32 = 100;

/// Where a user's history is kept: append-only, read newest first.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends `entry` to its user's history.
    async fn append(&self, entry: &AuditEntry) -> Result<(), StorageError>;

    /// At most `limit` entries of `user`, newest first (by `at`, then `id`), strictly older
    /// than `before` when given.
    async fn page(
        &self,
        user: &UserId,
        before: Option<AuditPosition>,
        limit: NonZeroU32,
    ) -> Result<Vec<AuditEntry>, StorageError>;

    /// Deletes at most `batch` entries, of any user, that happened before `cutoff`; returns
    /// how many it deleted (fewer than `batch`: none are left).
    async fn delete_before(
        &self,
        cutoff: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError>;
}
