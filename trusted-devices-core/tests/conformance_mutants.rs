//! The conformance suite must fail a store that breaks its rules: each check here is run
//! against a deliberately broken store (a mutant) and must panic, every time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use trusted_devices_core::memory::{MemoryDeviceRepository, MemoryTokenStore};
use trusted_devices_core::testing::device_repository::list_is_per_user_and_complete;
use trusted_devices_core::testing::token_store::rule_c_cleanup_keeps_consumed_records_until_they_expire;
use trusted_devices_core::{
    CreateOutcome, Device, DeviceId, DeviceLimit, DevicePatch, DeviceRepository, IdleExtension,
    RefreshRecord, RotateOutcome, Rotation, Sighting, StorageError, TokenStore, UserId,
};
use trusted_devices_core::{DeviceInfo, KeyRing, ManualClock, SigningKey, TrustedDevices};

/// Runs a check in its own task and answers whether it panicked.
async fn panics(check: impl Future<Output = ()> + Send + 'static) -> bool {
    tokio::spawn(check)
        .await
        .is_err_and(|error| error.is_panic())
}

/// A repository whose `list` answers in hash-map order, as a store without `ORDER BY` may.
#[derive(Default)]
struct HashOrderedList(MemoryDeviceRepository);

#[async_trait]
impl DeviceRepository for HashOrderedList {
    async fn create(
        &self,
        device: Device,
        limit: DeviceLimit,
    ) -> Result<CreateOutcome, StorageError> {
        self.0.create(device, limit).await
    }
    async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError> {
        self.0.get(id).await
    }
    async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        let by_id: HashMap<DeviceId, Device> = self
            .0
            .list(user)
            .await?
            .into_iter()
            .map(|device| (device.id, device))
            .collect();
        Ok(by_id.into_values().collect())
    }
    async fn update(
        &self,
        user: &UserId,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Option<Device>, StorageError> {
        self.0.update(user, id, patch).await
    }
    async fn record_seen(&self, id: DeviceId, sighting: Sighting) -> Result<(), StorageError> {
        self.0.record_seen(id, sighting).await
    }
    async fn extend_idle(
        &self,
        id: DeviceId,
        sighting: Sighting,
        extension: IdleExtension,
    ) -> Result<Option<Device>, StorageError> {
        self.0.extend_idle(id, sighting, extension).await
    }
    async fn delete(&self, user: &UserId, id: DeviceId) -> Result<Option<Device>, StorageError> {
        self.0.delete(user, id).await
    }
    async fn delete_others(
        &self,
        user: &UserId,
        keep: DeviceId,
    ) -> Result<Vec<Device>, StorageError> {
        self.0.delete_others(user, keep).await
    }
    async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.0.delete_all(user).await
    }
    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<Vec<Device>, StorageError> {
        self.0.delete_expired(now, batch).await
    }
}

/// A token store whose cleanup also deletes every consumed record, expired or not.
#[derive(Default)]
struct CleanupForgetsConsumed {
    inner: MemoryTokenStore,
    consumed: Mutex<HashSet<DeviceId>>,
}

#[async_trait]
impl TokenStore for CleanupForgetsConsumed {
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
        self.inner.insert(record).await
    }
    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        let device = rotation.device_id;
        let outcome = self.inner.rotate(rotation).await?;
        if outcome == RotateOutcome::Rotated {
            self.consumed.lock().unwrap().insert(device);
        }
        Ok(outcome)
    }
    async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        self.inner.revoke_devices(devices).await
    }
    async fn forget_sealed(
        &self,
        consumed_before: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        self.inner.forget_sealed(consumed_before, batch).await
    }
    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let expired = self.inner.delete_expired(now, batch).await?;
        let devices: Vec<DeviceId> = self.consumed.lock().unwrap().drain().collect();
        // The mutant: every record of a device with a consumed token goes, consumed or not.
        Ok(expired + self.inner.revoke_devices(&devices).await?)
    }
}

/// The list order is the service's, not a store's (issue 30: decided once): a store that
/// answers in hash order passes the conformance list check, and the service still lists
/// its devices oldest first, ties by id.
#[tokio::test]
async fn the_service_lists_oldest_first_over_a_hash_ordered_store() {
    let handles: Vec<Arc<dyn DeviceRepository>> = vec![Arc::new(HashOrderedList::default())];
    list_is_per_user_and_complete(&handles).await;
    for run in 0..8 {
        let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
        let service = TrustedDevices::builder(KeyRing::new(
            SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap(),
        ))
        .clock(clock.clone())
        .devices(Arc::new(HashOrderedList::default()))
        .build();
        let mut last = None;
        for index in 0..12 {
            // Two devices created at the same instant: the id breaks the tie.
            if index != 6 {
                clock.advance(chrono::TimeDelta::minutes(1));
            }
            let user = UserId::new("alice").unwrap();
            last = Some(service.login(user, DeviceInfo::new()).await.unwrap());
        }
        let acting = service
            .authenticate(&last.unwrap().tokens.access_token, None)
            .await
            .unwrap();
        let listed = service.list(&acting).await.unwrap();
        let order: Vec<_> = listed.iter().map(|d| (d.created_at, d.id)).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(listed.len(), 12);
        assert_eq!(
            order, sorted,
            "run {run}: the service's listing is oldest first"
        );
    }
}

#[tokio::test]
async fn conformance_cleanup_check_fails_a_store_that_deletes_consumed_records() {
    for run in 0..8 {
        let handles: Vec<Arc<dyn TokenStore>> = vec![Arc::new(CleanupForgetsConsumed::default())];
        assert!(
            panics(async move {
                rule_c_cleanup_keeps_consumed_records_until_they_expire(&handles).await;
            })
            .await,
            "run {run}: a cleanup that deletes consumed records passed"
        );
    }
    let honest: Vec<Arc<dyn TokenStore>> = vec![Arc::new(MemoryTokenStore::new())];
    rule_c_cleanup_keeps_consumed_records_until_they_expire(&honest).await;
}

/// A store that never forgets a sealed successor (issue 25's planted bug): it answers a
/// replay within whatever grace it is given from its own copy of every seal, however old.
#[derive(Default)]
struct NeverForgetsSeals {
    inner: MemoryTokenStore,
    seals: Mutex<
        HashMap<
            trusted_devices_core::RefreshTokenHash,
            (DateTime<Utc>, trusted_devices_core::SealedSuccessor),
        >,
    >,
}

#[async_trait]
impl TokenStore for NeverForgetsSeals {
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
        self.inner.insert(record).await
    }
    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        let (presented, now, grace) = (rotation.presented, rotation.now, rotation.grace);
        let sealed = rotation.sealed_successor;
        let outcome = self.inner.rotate(rotation).await?;
        let mut seals = self.seals.lock().unwrap();
        match outcome {
            RotateOutcome::Rotated => {
                seals.insert(presented, (now, sealed));
                Ok(outcome)
            }
            // The mutant: the seal is still there, so the replay is answered with it.
            RotateOutcome::Reused { .. } => match seals.get(&presented) {
                Some((at, sealed_successor)) if now - *at <= grace => Ok(RotateOutcome::Replayed {
                    sealed_successor: *sealed_successor,
                }),
                _ => Ok(outcome),
            },
            _ => Ok(outcome),
        }
    }
    async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        self.inner.revoke_devices(devices).await
    }
    async fn forget_sealed(&self, _: DateTime<Utc>, _: NonZeroU32) -> Result<u64, StorageError> {
        Ok(0)
    }
    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        self.inner.delete_expired(now, batch).await
    }
}

#[tokio::test]
async fn conformance_seal_check_fails_a_store_that_never_forgets_seals() {
    use trusted_devices_core::testing::token_store::rule_r_seals_past_the_grace_are_forgotten;
    let handles: Vec<Arc<dyn TokenStore>> = vec![Arc::new(NeverForgetsSeals::default())];
    assert!(
        panics(async move { rule_r_seals_past_the_grace_are_forgotten(&handles).await }).await,
        "a store that never forgets sealed successors passed"
    );
    let honest: Vec<Arc<dyn TokenStore>> = vec![Arc::new(MemoryTokenStore::new())];
    rule_r_seals_past_the_grace_are_forgotten(&honest).await;
}
