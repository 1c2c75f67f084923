use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{Device, DeviceId, DevicePatch, UserId};
use crate::error::StorageError;
use crate::store::{
    Admission, CreateOutcome, DeviceLimit, DeviceRepository, IdleExtension, Sighting,
};

/// A [`DeviceRepository`] in process memory.
#[derive(Debug, Default)]
pub struct MemoryDeviceRepository {
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Shared, so that authentication reads a device without cloning it.
    devices: HashMap<DeviceId, Arc<Device>>,
    by_user: HashMap<UserId, Vec<DeviceId>>,
    by_deadline: BTreeSet<(DateTime<Utc>, DeviceId)>,
}

impl State {
    fn insert(&mut self, device: Device) {
        self.by_user
            .entry(device.user_id.clone())
            .or_default()
            .push(device.id);
        self.by_deadline.insert((device.deadline(), device.id));
        self.devices.insert(device.id, Arc::new(device));
    }

    fn remove(&mut self, id: DeviceId) -> Option<Device> {
        let device = self.devices.remove(&id)?;
        self.by_deadline.remove(&(device.deadline(), id));
        if let Some(ids) = self.by_user.get_mut(&device.user_id) {
            ids.retain(|other| *other != id);
            if ids.is_empty() {
                self.by_user.remove(&device.user_id);
            }
        }
        Some(Arc::unwrap_or_clone(device))
    }

    fn user_devices(&self, user: &UserId) -> Vec<&Device> {
        self.by_user
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.devices.get(id))
            .map(Arc::as_ref)
            .collect()
    }

    fn owned(&self, user: &UserId, id: DeviceId) -> Option<&Device> {
        self.devices
            .get(&id)
            .map(Arc::as_ref)
            .filter(|device| device.user_id == *user)
    }

    /// Changes a device in place, keeping the deadline index true.
    fn modify(&mut self, id: DeviceId, change: impl FnOnce(&mut Device)) -> Option<Device> {
        let device = Arc::make_mut(self.devices.get_mut(&id)?);
        let old_deadline = device.deadline();
        change(device);
        let updated = device.clone();
        if updated.deadline() != old_deadline {
            self.by_deadline.remove(&(old_deadline, id));
            self.by_deadline.insert((updated.deadline(), id));
        }
        Some(updated)
    }
}

impl MemoryDeviceRepository {
    /// An empty repository.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many devices are stored, all users together.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().devices.len()
    }

    /// Whether no device is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A panic while holding the lock cannot leave State half-changed (every method changes
    // it only after its checks), so a poisoned lock is safe to keep using.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl DeviceRepository for MemoryDeviceRepository {
    async fn create(
        &self,
        device: Device,
        limit: DeviceLimit,
    ) -> Result<CreateOutcome, StorageError> {
        let mut state = self.write();
        let mut held = state.user_devices(&device.user_id);
        let victims: Vec<DeviceId> = match limit.admission(held.len()) {
            Admission::Admit => Vec::new(),
            Admission::Reject => return Ok(CreateOutcome::LimitReached),
            Admission::ReplaceAll => held.iter().map(|d| d.id).collect(),
            Admission::Evict { count, order } => {
                let mut candidates: Vec<Device> = held.drain(..).cloned().collect();
                order.sort(&mut candidates);
                candidates.iter().take(count).map(|d| d.id).collect()
            }
        };
        let displaced = victims
            .into_iter()
            .filter_map(|id| state.remove(id))
            .collect();
        state.insert(device);
        Ok(CreateOutcome::Created { displaced })
    }

    async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError> {
        Ok(self
            .read()
            .devices
            .get(&id)
            .map(|device| Device::clone(device)))
    }

    async fn get_shared(&self, id: DeviceId) -> Result<Option<Arc<Device>>, StorageError> {
        Ok(self.read().devices.get(&id).cloned())
    }

    async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        let state = self.read();
        Ok(state.user_devices(user).into_iter().cloned().collect())
    }

    async fn update(
        &self,
        user: &UserId,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Option<Device>, StorageError> {
        let mut state = self.write();
        if state.owned(user, id).is_none() {
            return Ok(None);
        }
        Ok(state.modify(id, |device| device.apply(patch)))
    }

    async fn record_seen(&self, id: DeviceId, sighting: Sighting) -> Result<(), StorageError> {
        self.write().modify(id, |device| see(device, sighting));
        Ok(())
    }

    async fn extend_idle(
        &self,
        id: DeviceId,
        sighting: Sighting,
        extension: IdleExtension,
    ) -> Result<Option<Device>, StorageError> {
        // The deadline is `Device::deadline()` of the fields, as the core computed it.
        Ok(self.write().modify(id, |device| {
            see(device, sighting);
            device.idle_expires_at = extension.idle_expires_at;
        }))
    }

    async fn delete(&self, user: &UserId, id: DeviceId) -> Result<Option<Device>, StorageError> {
        let mut state = self.write();
        if state.owned(user, id).is_none() {
            return Ok(None);
        }
        Ok(state.remove(id))
    }

    async fn delete_others(
        &self,
        user: &UserId,
        keep: DeviceId,
    ) -> Result<Vec<Device>, StorageError> {
        let mut state = self.write();
        let others: Vec<DeviceId> = state
            .user_devices(user)
            .iter()
            .map(|d| d.id)
            .filter(|id| *id != keep)
            .collect();
        Ok(others
            .into_iter()
            .filter_map(|id| state.remove(id))
            .collect())
    }

    async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        let mut state = self.write();
        let ids: Vec<DeviceId> = state.user_devices(user).iter().map(|d| d.id).collect();
        Ok(ids.into_iter().filter_map(|id| state.remove(id)).collect())
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<Vec<Device>, StorageError> {
        let mut state = self.write();
        let batch = usize::try_from(batch.get()).unwrap_or(usize::MAX);
        let expired: Vec<DeviceId> = state
            .by_deadline
            .iter()
            .take_while(|(deadline, _)| *deadline <= now)
            .take(batch)
            .map(|(_, id)| *id)
            .collect();
        Ok(expired
            .into_iter()
            .filter_map(|id| state.remove(id))
            .collect())
    }
}

fn see(device: &mut Device, sighting: Sighting) {
    if !sighting.is_due(device.last_seen_at) {
        return;
    }
    device.last_seen_at = sighting.at;
    if sighting.ip.is_some() {
        device.last_ip = sighting.ip;
    }
}
