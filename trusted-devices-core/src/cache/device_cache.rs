//! Rule T's device cache: authenticate reads a device from memory instead of storage, under a
//! revocation feed, never older than `device_cache_ttl`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::cache::feed::{FeedListener, RevocationFeed};
use crate::clock::Clock;
use crate::domain::{Device, DeviceId, DevicePatch, UserId};
use crate::error::StorageError;
use crate::event_log::TARGET;
use crate::store::{CreateOutcome, DeviceLimit, DeviceRepository, IdleExtension, Sighting};
use crate::telemetry::{CacheRead, count_cache};

/// How many devices a cache holds at most, by default: about 1 KiB each.
pub const DEFAULT_DEVICE_CACHE_CAPACITY: usize = 100_000;

/// A [`DeviceRepository`] that keeps recently read devices in memory, for
/// [`get`](DeviceRepository::get) only (what authentication reads). Every other call goes to
/// the repository it wraps; every change it makes drops the changed devices from this cache
/// before it returns, and is published on the feed for the other servers' caches.
///
/// An entry is served only while the feed [is live](RevocationFeed::is_live) and for at most
/// `ttl` after it was read; the session deadlines are checked by the service on every
/// request from whatever record it gets. Build one through
/// [`TrustedDevicesBuilder::revocation_feed`](crate::TrustedDevicesBuilder::revocation_feed).
pub struct CachedDevices {
    inner: Arc<dyn DeviceRepository>,
    feed: Arc<dyn RevocationFeed>,
    entries: Arc<Entries>,
    clock: Arc<dyn Clock>,
    ttl: TimeDelta,
}

impl std::fmt::Debug for CachedDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedDevices")
            .field("ttl", &self.ttl)
            .field("entries", &self.entries.cache.len())
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Cached {
    device: Arc<Device>,
    read_at: DateTime<Utc>,
}

/// The entries, shared with the feed that drops them.
struct Entries {
    cache: quick_cache::sync::Cache<DeviceId, Cached>,
    /// Moves on every drop, so that a read that began before a change never stores what it
    /// read after the change was delivered.
    generation: AtomicU64,
}

impl FeedListener for Entries {
    fn changed(&self, device: DeviceId) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.remove(&device);
    }

    fn flush(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.clear();
    }
}

impl CachedDevices {
    /// A cache of at most `capacity` devices over `inner`, kept true by `feed`, each entry
    /// served for at most `ttl`.
    #[must_use]
    pub fn new(
        inner: Arc<dyn DeviceRepository>,
        feed: Arc<dyn RevocationFeed>,
        clock: Arc<dyn Clock>,
        ttl: TimeDelta,
        capacity: usize,
    ) -> Self {
        let entries = Arc::new(Entries {
            cache: quick_cache::sync::Cache::new(capacity.max(1)),
            generation: AtomicU64::new(0),
        });
        feed.subscribe(entries.clone());
        Self {
            inner,
            feed,
            entries,
            clock,
            ttl,
        }
    }

    /// How many devices are cached now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.cache.len()
    }

    /// Whether nothing is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops `devices` here at once, then tells the other servers. A failed publish is
    /// logged: the change is stored, and their entries expire within `ttl`.
    async fn changed(&self, devices: &[DeviceId]) {
        for device in devices {
            self.entries.changed(*device);
        }
        if devices.is_empty() {
            return;
        }
        if let Err(error) = self.feed.publish(devices).await {
            tracing::warn!(target: TARGET, %error, "revocation feed: publish failed");
        }
    }

    async fn changed_devices(&self, devices: &[Device]) {
        let ids: Vec<DeviceId> = devices.iter().map(|device| device.id).collect();
        self.changed(&ids).await;
    }
}

#[async_trait]
impl DeviceRepository for CachedDevices {
    async fn create(
        &self,
        device: Device,
        limit: DeviceLimit,
    ) -> Result<CreateOutcome, StorageError> {
        let outcome = self.inner.create(device, limit).await?;
        if let CreateOutcome::Created { displaced } = &outcome {
            self.changed_devices(displaced).await;
        }
        Ok(outcome)
    }

    async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError> {
        Ok(self.get_shared(id).await?.map(Arc::unwrap_or_clone))
    }

    async fn get_shared(&self, id: DeviceId) -> Result<Option<Arc<Device>>, StorageError> {
        if !self.feed.is_live() || self.ttl <= TimeDelta::zero() {
            count_cache(CacheRead::Bypass);
            return self.inner.get_shared(id).await;
        }
        let now = self.clock.now();
        if let Some(cached) = self.entries.cache.get(&id)
            && now - cached.read_at < self.ttl
        {
            count_cache(CacheRead::Hit);
            return Ok(Some(cached.device));
        }
        count_cache(CacheRead::Miss);
        let generation = self.entries.generation.load(Ordering::Acquire);
        let read = self.inner.get_shared(id).await?;
        let unchanged = || self.entries.generation.load(Ordering::Acquire) == generation;
        if let Some(device) = &read
            && unchanged()
            && self.feed.is_live()
        {
            let entry = Cached {
                device: Arc::clone(device),
                read_at: now,
            };
            self.entries.cache.insert(id, entry);
            // A change delivered between the check above and the insert would otherwise be
            // undone by it: a change moves the generation before it removes, so looking
            // again after the insert either sees it and takes the entry back, or the
            // change's removal comes after the insert and takes it.
            if !unchanged() {
                self.entries.cache.remove(&id);
            }
        }
        Ok(read)
    }

    async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.inner.list(user).await
    }

    async fn update(
        &self,
        user: &UserId,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Option<Device>, StorageError> {
        let updated = self.inner.update(user, id, patch).await?;
        if updated.is_some() {
            self.changed(&[id]).await;
        }
        Ok(updated)
    }

    async fn record_seen(&self, id: DeviceId, sighting: Sighting) -> Result<(), StorageError> {
        self.inner.record_seen(id, sighting).await?;
        // Only this server's copy: a sighting changes nothing another server decides on.
        self.entries.changed(id);
        Ok(())
    }

    async fn extend_idle(
        &self,
        id: DeviceId,
        sighting: Sighting,
        extension: IdleExtension,
    ) -> Result<Option<Device>, StorageError> {
        let extended = self.inner.extend_idle(id, sighting, extension).await?;
        self.changed(&[id]).await;
        Ok(extended)
    }

    async fn delete(&self, user: &UserId, id: DeviceId) -> Result<Option<Device>, StorageError> {
        let deleted = self.inner.delete(user, id).await?;
        if deleted.is_some() {
            self.changed(&[id]).await;
        }
        Ok(deleted)
    }

    async fn delete_others(
        &self,
        user: &UserId,
        keep: DeviceId,
    ) -> Result<Vec<Device>, StorageError> {
        let deleted = self.inner.delete_others(user, keep).await?;
        self.changed_devices(&deleted).await;
        Ok(deleted)
    }

    async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        let deleted = self.inner.delete_all(user).await?;
        self.changed_devices(&deleted).await;
        Ok(deleted)
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<Vec<Device>, StorageError> {
        let deleted = self.inner.delete_expired(now, batch).await?;
        self.changed_devices(&deleted).await;
        Ok(deleted)
    }
}
