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

/// The listeners of one feed, for feed implementations: every change delivered goes to each.
#[derive(Default)]
pub struct Listeners {
    listeners: Mutex<Vec<Arc<dyn FeedListener>>>,
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners").finish_non_exhaustive()
    }
}

impl Listeners {
    /// Adds one.
    pub fn add(&self, listener: Arc<dyn FeedListener>) {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(listener);
    }

    /// Delivers that `devices` changed.
    pub fn changed(&self, devices: &[DeviceId]) {
        for listener in self.snapshot() {
            for device in devices {
                listener.changed(*device);
            }
        }
    }

    /// Tells each that deliveries may have been lost.
    pub fn flush(&self) {
        for listener in self.snapshot() {
            listener.flush();
        }
    }

    fn snapshot(&self) -> Vec<Arc<dyn FeedListener>> {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The message format of feeds through a server: device ids joined by commas, at most
/// `per_message` in one message (PostgreSQL caps a notification at 8,000 bytes).
#[must_use]
pub fn encode_changes(devices: &[DeviceId], per_message: usize) -> Vec<String> {
    devices
        .chunks(per_message.max(1))
        .map(|chunk| {
            let ids: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            ids.join(",")
        })
        .collect()
}

/// Reads a message of [`encode_changes`]; what is not a device id is skipped.
#[must_use]
pub fn decode_changes(message: &str) -> Vec<DeviceId> {
    message
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect()
}

/// The feed of one process: every service sharing it sees every change at once. For a single
/// server (or tests of several services in one process); several processes need a feed
/// through their storage.
#[derive(Debug, Default)]
pub struct LocalFeed {
    listeners: Listeners,
}

impl LocalFeed {
    /// A feed with no listener yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RevocationFeed for LocalFeed {
    async fn publish(&self, devices: &[DeviceId]) -> Result<(), StorageError> {
        self.listeners.changed(devices);
        Ok(())
    }

    fn is_live(&self) -> bool {
        true
    }

    fn subscribe(&self, listener: Arc<dyn FeedListener>) {
        self.listeners.add(listener);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn changes_round_trip_through_messages_in_bounded_chunks() {
        let random = SeededRandom::new(3);
        let now = chrono::Utc::now();
        let ids: Vec<DeviceId> = (0..5).map(|_| DeviceId::generate(now, &random)).collect();
        let messages = encode_changes(&ids, 2);
        assert_eq!(messages.len(), 3);
        let back: Vec<DeviceId> = messages.iter().flat_map(|m| decode_changes(m)).collect();
        assert_eq!(back, ids);
        assert!(decode_changes("not-an-id,").is_empty());
    }
}
