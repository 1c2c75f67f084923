use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{Device, DeviceId, DevicePatch, UserId};
use crate::error::StorageError;
use crate::policy::{Eviction, Policy};

/// The login limits a [`DeviceRepository::create`] enforces atomically with the insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceLimit {
    /// Revoke every other device of the user.
    pub single_login: bool,
    /// The most devices the user may hold after the insert.
    pub max_devices: Option<NonZeroU32>,
    /// What to do at the limit.
    pub eviction: Eviction,
}

impl DeviceLimit {
    /// No limit at all.
    pub const NONE: Self = Self {
        single_login: false,
        max_devices: None,
        eviction: Eviction::Reject,
    };

    /// The limits a policy sets.
    #[must_use]
    pub fn from_policy(policy: &Policy) -> Self {
        Self {
            single_login: policy.single_login(),
            max_devices: policy.max_devices,
            eviction: policy.eviction(),
        }
    }
}

impl DeviceLimit {
    /// What a create must do for a user who holds `held` devices: the rule L decision,
    /// written once for every store. The store applies it atomically with the insert.
    #[must_use]
    pub fn admission(&self, held: usize) -> Admission {
        if self.single_login {
            return Admission::ReplaceAll;
        }
        let Some(max) = self.max_devices else {
            return Admission::Admit;
        };
        let max = usize::try_from(max.get()).unwrap_or(usize::MAX);
        if held < max {
            return Admission::Admit;
        }
        let count = held - max + 1;
        match self.eviction {
            Eviction::Reject => Admission::Reject,
            Eviction::EvictLeastRecentlyUsed => Admission::Evict {
                count,
                order: EvictionOrder::LeastRecentlyUsed,
            },
            Eviction::EvictOldest => Admission::Evict {
                count,
                order: EvictionOrder::Oldest,
            },
        }
    }

    /// Whether [`admission`](Self::admission) depends on how many devices the user holds.
    #[must_use]
    pub fn counts_devices(&self) -> bool {
        !self.single_login && self.max_devices.is_some()
    }
}

/// A refresh's new deadlines, decided by the core: the idle deadline moves, the absolute one
/// never does, and the session ends at the earlier of the two
/// ([`Device::deadline`]). Stores write both as they are and compute neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdleExtension {
    /// The new idle deadline.
    pub idle_expires_at: DateTime<Utc>,
    /// The session's end afterwards: what cleanup compares with its `now`.
    pub deadline: DateTime<Utc>,
}

impl IdleExtension {
    /// `device`'s deadlines once its idle deadline has moved to `idle_expires_at`.
    #[must_use]
    pub fn of(device: &Device, idle_expires_at: DateTime<Utc>) -> Self {
        Self {
            idle_expires_at,
            deadline: device.within_session(idle_expires_at),
        }
    }
}

/// What a [`DeviceRepository::create`] must do before inserting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Insert; remove nothing.
    Admit,
    /// Write nothing and answer [`CreateOutcome::LimitReached`].
    Reject,
    /// Remove every other device of the user (single login), then insert.
    ReplaceAll,
    /// Remove `count` devices of the user in `order`, then insert.
    Evict {
        /// How many to remove.
        count: usize,
        /// Which go first.
        order: EvictionOrder,
    },
}

/// Which devices an eviction removes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictionOrder {
    /// Oldest `last_seen_at` first, then lowest id.
    LeastRecentlyUsed,
    /// Oldest `created_at` first, then lowest id.
    Oldest,
}

impl EvictionOrder {
    /// Sorts devices into this order (for stores whose deletes return rows unordered).
    pub fn sort(self, devices: &mut [Device]) {
        match self {
            Self::LeastRecentlyUsed => devices.sort_by_key(|d| (d.last_seen_at, d.id)),
            Self::Oldest => devices.sort_by_key(|d| (d.created_at, d.id)),
        }
    }
}

/// The result of [`DeviceRepository::create`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CreateOutcome {
    /// The device was inserted; `displaced` were deleted in the same operation to make room
    /// (eviction) or because of single login.
    Created {
        /// The devices removed, oldest first for `EvictOldest`, least recently seen first for
        /// `EvictLeastRecentlyUsed`.
        displaced: Vec<Device>,
    },
    /// The user holds `max_devices` and the mode is `Reject`: nothing was written.
    LimitReached,
}

/// A request seen from a device, and the `touch_interval` throttle on recording it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting {
    /// The time of the request.
    pub at: DateTime<Utc>,
    /// The client address, if known (kept as it was when unknown).
    pub ip: Option<IpAddr>,
    /// Record only if the stored `last_seen_at` is at or before this instant (`at` minus
    /// `touch_interval`), so the throttle holds across servers.
    pub stale_before: DateTime<Utc>,
}

impl Sighting {
    /// Whether a device last seen at `last_seen_at` should record this sighting.
    #[must_use]
    pub fn is_due(&self, last_seen_at: DateTime<Utc>) -> bool {
        last_seen_at <= self.stale_before
    }
}

/// Where devices live. Implement it for your own storage and run
/// `trusted_devices_core::testing` (feature `testing`) against it.
///
/// Every method is one atomic operation: concurrent calls from several processes must keep
/// each rule, as the conformance suite checks with many concurrent tasks.
#[async_trait]
pub trait DeviceRepository: Send + Sync {
    /// Inserts `device`, applying `limit` to its user in the same atomic operation:
    /// single login deletes every other device of the user; at `max_devices`, `Reject`
    /// writes nothing and the eviction modes delete just enough others to make room.
    async fn create(
        &self,
        device: Device,
        limit: DeviceLimit,
    ) -> Result<CreateOutcome, StorageError>;

    /// The device with this id, whoever owns it.
    async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError>;

    /// [`get`](Self::get) for a reader that only reads, as authentication does on every
    /// request: a repository holding its devices in memory (the in-memory one, the device
    /// cache) hands out its own copy instead of cloning the record. Implement it only for
    /// that; the default wraps [`get`](Self::get)'s answer.
    async fn get_shared(&self, id: DeviceId) -> Result<Option<Arc<Device>>, StorageError> {
        Ok(self.get(id).await?.map(Arc::new))
    }

    /// Every device of `user`, in any order: the service orders a listing itself
    /// (`created_at`, then `id`), so no store has to.
    async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError>;

    /// Applies `patch` to `user`'s device `id`; `None` when `user` has no such device.
    async fn update(
        &self,
        user: &UserId,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Option<Device>, StorageError>;

    /// Writes `last_seen_at` (and `last_ip` when known) if the sighting
    /// [is due](Sighting::is_due) against the stored `last_seen_at`.
    async fn record_seen(&self, id: DeviceId, sighting: Sighting) -> Result<(), StorageError>;

    /// On refresh: writes the core's new deadlines as they are (the idle one, and the
    /// session's end, which stores keep for cleanup), and records the sighting as
    /// [`record_seen`](Self::record_seen) does, in one operation. `None` when the device is
    /// gone.
    async fn extend_idle(
        &self,
        id: DeviceId,
        sighting: Sighting,
        extension: IdleExtension,
    ) -> Result<Option<Device>, StorageError>;

    /// Deletes `user`'s device `id`; `None` when `user` has no such device.
    async fn delete(&self, user: &UserId, id: DeviceId) -> Result<Option<Device>, StorageError>;

    /// Deletes every device of `user` but `keep`, and returns them.
    async fn delete_others(
        &self,
        user: &UserId,
        keep: DeviceId,
    ) -> Result<Vec<Device>, StorageError>;

    /// Deletes every device of `user`, and returns them.
    async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError>;

    /// Deletes at most `batch` devices whose idle or absolute deadline is at or before
    /// `now`, and returns them. Never locks more than the batch.
    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<Vec<Device>, StorageError>;
}
