//! The `jti` replay cache of DPoP proofs (RFC 9449 section 11.1): a proof's id is kept for
//! the proof-age window, per key, and a second use within it is refused. Bounded: a key may
//! have at most so many proofs in a window, and the cache holds at most so many in all; a
//! full cache refuses (fails closed) rather than forget an id early, which would let a
//! replay through.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dpop::Thumbprint;
use crate::error::StorageError;

/// Proofs one key may make within one window, by default: far beyond any client's pace.
pub const MEMORY_REPLAY_PER_KEY: usize = 1_000;
/// Proof ids the in-memory cache holds at most, by default.
pub const MEMORY_REPLAY_CAPACITY: usize = 100_000;

/// Where the ids of used proofs are kept, for every server that shares it.
#[async_trait]
pub trait ProofReplayCache: Send + Sync {
    /// Records the proof `jti` of key `jkt` as used until `expires_at`, in one atomic step;
    /// `Ok(false)` if it was already used (a replay), or if the key has used its share.
    async fn first_use(
        &self,
        jkt: &Thumbprint,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}

/// The replay cache of one process: enough for one server; several servers share one
/// through Redis (`trusted_devices_redis::RedisProofReplayCache`), or a proof replayed on
/// another server would pass there.
#[derive(Debug)]
pub struct MemoryProofReplayCache {
    per_key: usize,
    capacity: usize,
    used: Mutex<Used>,
}

#[derive(Debug, Default)]
struct Used {
    by_key: HashMap<Thumbprint, HashMap<String, DateTime<Utc>>>,
    total: usize,
}

impl Default for MemoryProofReplayCache {
    fn default() -> Self {
        Self::new(MEMORY_REPLAY_PER_KEY, MEMORY_REPLAY_CAPACITY)
    }
}

impl MemoryProofReplayCache {
    /// At most `per_key` ids per key and `capacity` in all.
    #[must_use]
    pub fn new(per_key: usize, capacity: usize) -> Self {
        Self {
            per_key,
            capacity,
            used: Mutex::new(Used::default()),
        }
    }
}

impl Used {
    fn forget_expired_of(&mut self, jkt: &Thumbprint, now: DateTime<Utc>) {
        if let Some(ids) = self.by_key.get_mut(jkt) {
            let before = ids.len();
            ids.retain(|_, expires_at| *expires_at > now);
            self.total -= before - ids.len();
            if ids.is_empty() {
                self.by_key.remove(jkt);
            }
        }
    }

    fn forget_all_expired(&mut self, now: DateTime<Utc>) {
        let keys: Vec<Thumbprint> = self.by_key.keys().cloned().collect();
        for jkt in &keys {
            self.forget_expired_of(jkt, now);
        }
    }
}

#[async_trait]
impl ProofReplayCache for MemoryProofReplayCache {
    async fn first_use(
        &self,
        jkt: &Thumbprint,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        used.forget_expired_of(jkt, now);
        let of_key = used.by_key.get(jkt);
        if of_key.is_some_and(|ids| ids.contains_key(jti) || ids.len() >= self.per_key) {
            return Ok(false);
        }
        if used.total >= self.capacity {
            used.forget_all_expired(now);
            if used.total >= self.capacity {
                return Err(StorageError::unavailable(ReplayCacheFull));
            }
        }
        used.by_key
            .entry(jkt.clone())
            .or_default()
            .insert(jti.to_owned(), expires_at);
        used.total += 1;
        Ok(true)
    }
}

/// The in-memory replay cache is full of unexpired ids.
#[derive(Debug, thiserror::Error)]
#[error("the DPoP replay cache is full")]
struct ReplayCacheFull;

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Thumbprint {
        Thumbprint::parse(&crate::token::b64_encode(&[byte; 32])).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[tokio::test]
    async fn section_9_a_proof_id_is_used_once_per_key_within_its_window() {
        let cache = MemoryProofReplayCache::default();
        let (a, b) = (key(1), key(2));
        assert!(cache.first_use(&a, "j1", at(160), at(100)).await.unwrap());
        assert!(
            !cache.first_use(&a, "j1", at(170), at(110)).await.unwrap(),
            "replay"
        );
        assert!(
            cache.first_use(&b, "j1", at(170), at(110)).await.unwrap(),
            "another key"
        );
        assert!(
            cache.first_use(&a, "j1", at(230), at(161)).await.unwrap(),
            "window over"
        );
    }

    #[tokio::test]
    async fn section_9_the_cache_is_bounded_per_key_and_in_all() {
        let cache = MemoryProofReplayCache::new(2, 3);
        let a = key(1);
        assert!(cache.first_use(&a, "1", at(160), at(100)).await.unwrap());
        assert!(cache.first_use(&a, "2", at(160), at(100)).await.unwrap());
        assert!(
            !cache.first_use(&a, "3", at(160), at(100)).await.unwrap(),
            "key's share"
        );
        assert!(
            cache
                .first_use(&key(2), "1", at(160), at(100))
                .await
                .unwrap()
        );
        let full = cache.first_use(&key(3), "1", at(160), at(100)).await;
        assert!(full.is_err(), "a full cache fails closed");
        assert!(
            cache
                .first_use(&key(3), "1", at(260), at(200))
                .await
                .unwrap(),
            "expired ids go"
        );
    }
}
