//! The revocation feed (SPEC §4 T): how one server's changes to devices reach the device
//! caches of the others.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use crate::domain::DeviceId;
use crate::error::StorageError;

/// Receives what a [`RevocationFeed`] delivers: a device cache.
pub trait FeedListener: Send + Sync {
    /// `device` was revoked, deleted or changed on some server: drop what is cached of it.
    fn changed(&self, device: DeviceId);
    /// Deliveries may have been lost (the feed's connection was down): drop everything.
    fn flush(&self);
}

/// Carries device changes between the servers that share one storage, so that each
/// server's device cache drops an entry as soon as any server changes the device.
///
/// An implementation publishes through its backend (PostgreSQL `NOTIFY`, Redis `PUBLISH`),
/// delivers every change it receives (its own included) to its listeners, says whether it is
/// [live](Self::is_live), and calls [`FeedListener::flush`] when it reconnects. While it is
/// not live, caches are bypassed: storage is read on every request, never a cached device.
#[async_trait]
pub trait RevocationFeed: Send + Sync {
    /// Tells every server that `devices` changed. Called after the change is stored; an
    /// error is reported, never the request's failure (the change itself stands, and each
    /// cache entry lives at most `device_cache_ttl`).
    async fn publish(&self, devices: &[DeviceId]) -> Result<(), StorageError>;

    /// Whether changes are being received now. A cache serves entries only while it is.
    fn is_live(&self) -> bool;

    /// Adds a receiver of every delivered change.
    fn subscribe(&self, listener: Arc<dyn FeedListener>);
}

/// The feed of one process: every service sharing it sees every change at once. For a single
/// server (or tests of several services in one process); several processes need a feed
/// through their storage.
#[derive(Default)]
pub struct LocalFeed {
    listeners: Mutex<Vec<Arc<dyn FeedListener>>>,
}

impl std::fmt::Debug for LocalFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFeed").finish_non_exhaustive()
    }
}

impl LocalFeed {
    /// A feed with no listener yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn listeners(&self) -> Vec<Arc<dyn FeedListener>> {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl RevocationFeed for LocalFeed {
    async fn publish(&self, devices: &[DeviceId]) -> Result<(), StorageError> {
        for listener in self.listeners() {
            for device in devices {
                listener.changed(*device);
            }
        }
        Ok(())
    }

    fn is_live(&self) -> bool {
        true
    }

    fn subscribe(&self, listener: Arc<dyn FeedListener>) {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(listener);
    }
}
