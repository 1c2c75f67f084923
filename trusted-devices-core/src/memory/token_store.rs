use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::DeviceId;
use crate::error::StorageError;
use crate::store::{RefreshRecord, RotateOutcome, Rotation, TokenStore};
use crate::token::RefreshTokenHash;

/// A [`TokenStore`] in process memory.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<RefreshTokenHash, RefreshRecord>,
    by_device: HashMap<DeviceId, HashSet<RefreshTokenHash>>,
    by_expiry: BTreeSet<(DateTime<Utc>, RefreshTokenHash)>,
    /// Consumed records still holding a sealed successor, by device, oldest consumption
    /// first: a seal sweep pops only what has aged past the grace, so a rotation's cost
    /// grows neither with the consumed records a device keeps for reuse detection nor
    /// with the seals still inside the grace.
    sealed: HashMap<DeviceId, VecDeque<(DateTime<Utc>, RefreshTokenHash)>>,
}

impl State {
    fn insert(&mut self, record: RefreshRecord) {
        self.by_device
            .entry(record.device_id)
            .or_default()
            .insert(record.hash);
        self.by_expiry.insert((record.expires_at, record.hash));
        if let Some(replaced) = self.records.insert(record.hash, record) {
            self.by_expiry.remove(&(replaced.expires_at, replaced.hash));
        }
    }

    fn remove(&mut self, hash: RefreshTokenHash) -> Option<RefreshRecord> {
        let record = self.records.remove(&hash)?;
        self.by_expiry.remove(&(record.expires_at, hash));
        if let Some(hashes) = self.by_device.get_mut(&record.device_id) {
            hashes.remove(&hash);
            if hashes.is_empty() {
                self.by_device.remove(&record.device_id);
            }
        }
        Some(record)
    }
}

impl State {
    /// Forgets the seals of `device`'s records consumed before `consumed_before`; returns
    /// how many, at most `limit`.
    fn forget_sealed_of(
        &mut self,
        device: DeviceId,
        consumed_before: DateTime<Utc>,
        limit: usize,
    ) -> usize {
        let Some(entries) = self.sealed.get_mut(&device) else {
            return 0;
        };
        // Rotations append in consumption order; a clock stepping back only delays a seal's
        // forgetting until the ones before it age out.
        let mut forgotten = 0;
        while forgotten < limit {
            let Some(&(at, hash)) = entries.front() else {
                break;
            };
            if at >= consumed_before {
                break;
            }
            entries.pop_front();
            if let Some(rotated) = self
                .records
                .get_mut(&hash)
                .and_then(|record| record.rotated.as_mut())
                .filter(|rotated| rotated.sealed_successor.is_some())
            {
                rotated.sealed_successor = None;
                forgotten += 1;
            }
        }
        if entries.is_empty() {
            self.sealed.remove(&device);
        }
        forgotten
    }
}

impl MemoryTokenStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records are stored, consumed ones included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// The stored record of a token, consumed or not: for tests that look at what is kept.
    #[must_use]
    pub fn record(&self, hash: &RefreshTokenHash) -> Option<RefreshRecord> {
        self.lock().records.get(hash).cloned()
    }

    /// Whether no record is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // Every method checks before it changes anything, so a poisoned lock holds whole state.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
        self.lock().insert(record);
        Ok(())
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        let mut state = self.lock();
        let stored = state.records.get_mut(&rotation.presented);
        if let Some(outcome) = rotation.refusal(stored.as_deref()) {
            return Ok(outcome);
        }
        if let Some(record) = stored {
            record.rotated = Some(rotation.rotated());
        }
        state
            .sealed
            .entry(rotation.device_id)
            .or_default()
            .push_back((rotation.now, rotation.presented));
        state.forget_sealed_of(
            rotation.device_id,
            rotation.forget_sealed_before(),
            usize::MAX,
        );
        state.insert(rotation.successor);
        Ok(RotateOutcome::Rotated)
    }

    async fn forget_sealed(
        &self,
        consumed_before: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let mut state = self.lock();
        let mut room = usize::try_from(batch.get()).unwrap_or(usize::MAX);
        let devices: Vec<DeviceId> = state.sealed.keys().copied().collect();
        let mut forgotten = 0;
        for device in devices {
            if room == 0 {
                break;
            }
            let done = state.forget_sealed_of(device, consumed_before, room);
            forgotten += done;
            room -= done;
        }
        Ok(u64::try_from(forgotten).unwrap_or(u64::MAX))
    }

    async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        let mut state = self.lock();
        let mut removed = 0;
        for device in devices {
            let hashes = state.by_device.get(device).cloned().unwrap_or_default();
            for hash in hashes {
                removed += u64::from(state.remove(hash).is_some());
            }
        }
        Ok(removed)
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let mut state = self.lock();
        let batch = usize::try_from(batch.get()).unwrap_or(usize::MAX);
        let expired: Vec<RefreshTokenHash> = state
            .by_expiry
            .iter()
            .take_while(|(expires_at, _)| *expires_at <= now)
            .take(batch)
            .map(|(_, hash)| *hash)
            .collect();
        let mut removed = 0;
        for hash in expired {
            removed += u64::from(state.remove(hash).is_some());
        }
        Ok(removed)
    }
}
