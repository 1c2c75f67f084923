//! An audit log in process memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::audit::{AuditEntry, AuditLog, AuditPosition};
use crate::domain::UserId;
use crate::error::StorageError;

/// An [`AuditLog`] in process memory: each user's entries in order, and every entry's
/// position for the retention sweep.
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    by_user: HashMap<UserId, BTreeMap<AuditPosition, AuditEntry>>,
    by_time: BTreeSet<(AuditPosition, UserId)>,
}

impl MemoryAuditLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries are kept, all users together.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().by_time.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // Every method changes the state only after its checks: a poisoned lock is safe.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl AuditLog for MemoryAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        let mut state = self.write();
        let position = entry.position();
        state.by_time.insert((position, entry.user_id.clone()));
        state
            .by_user
            .entry(entry.user_id.clone())
            .or_default()
            .insert(position, entry.clone());
        Ok(())
    }

    async fn page(
        &self,
        user: &UserId,
        before: Option<AuditPosition>,
        limit: NonZeroU32,
    ) -> Result<Vec<AuditEntry>, StorageError> {
        let state = self.read();
        let Some(entries) = state.by_user.get(user) else {
            return Ok(Vec::new());
        };
        let limit = usize::try_from(limit.get()).unwrap_or(usize::MAX);
        let older = match before {
            Some(before) => entries.range(..before),
            None => entries.range(..),
        };
        Ok(older
            .rev()
            .take(limit)
            .map(|(_, entry)| entry.clone())
            .collect())
    }

    async fn delete_before(
        &self,
        cutoff: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let mut state = self.write();
        let batch = usize::try_from(batch.get()).unwrap_or(usize::MAX);
        let doomed: Vec<(AuditPosition, UserId)> = state
            .by_time
            .iter()
            .take_while(|(position, _)| position.at < cutoff)
            .take(batch)
            .cloned()
            .collect();
        for (position, user) in &doomed {
            state.by_time.remove(&(*position, user.clone()));
            if let Some(entries) = state.by_user.get_mut(user) {
                entries.remove(position);
                if entries.is_empty() {
                    state.by_user.remove(user);
                }
            }
        }
        Ok(u64::try_from(doomed.len()).unwrap_or(u64::MAX))
    }
}
