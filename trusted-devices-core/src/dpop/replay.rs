//! The `jti` replay cache of DPoP proofs (RFC 9449 section 11.1): a proof's id is kept for
//! the proof-age window, per key, and a second use within it is refused.
//!
//! Only proofs by a key that matters reach it (the service compares the key with the
//! device's binding first, SPEC §9), so its bounds are sized for honest traffic: ids leave
//! in time order when their window ends (no scan), a key may record only its share of ids
//! per window (beyond it the client is told to slow down, 429 `rate_limited`, never that it
//! was robbed), and the whole cache is bounded in entries, hence in bytes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::dpop::Thumbprint;
use crate::error::StorageError;

/// Proofs one key may have in a replay cache at once, by default (in memory and in Redis):
/// a client making a fresh proof per request may send about 80 requests a second for a
/// window of 60 s either way (`10,000 / 121 s`), far beyond any one device's pace.
pub const PROOF_SHARE_PER_KEY: usize = 10_000;
/// Proof ids the in-memory cache holds at most, by default: 5,000 proofs a second each
/// remembered for the longest window (`dpop_proof_age` 60 s on either side of now, 121 s)
/// is 605,000; this leaves headroom for clocks that run ahead. An id costs 16 bytes in a
/// hash set (at most 39 with its control byte and the set's spare room) and 24 in the
/// expiry queue (at most 48 with a vector's spare room): at most 87 bytes, ~83 MiB when
/// full.
pub const MEMORY_REPLAY_CAPACITY: usize = 1_000_000;

/// What the cache says of one proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofUse {
    /// First seen: recorded until its window ends.
    First,
    /// Already used within its window: a replay (`dpop_invalid`).
    Replayed,
    /// The key has used its share of the window, or the cache is full: not recorded;
    /// answered 429 `rate_limited`, never as theft.
    OverShare,
}

/// Where the ids of used proofs are kept, for every server that shares it.
#[async_trait]
pub trait ProofReplayCache: Send + Sync {
    /// Records the proof `jti` of key `jkt` as used until `expires_at`, in one atomic step,
    /// unless it was already used ([`ProofUse::Replayed`]) or the key has used its share
    /// ([`ProofUse::OverShare`]).
    async fn first_use(
        &self,
        jkt: &Thumbprint,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ProofUse, StorageError>;
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

/// A proof as kept: a digest of its key and id (client input of up to 256 bytes stays
/// outside the cache); 128 bits, so that two honest proofs never collide, as two words so
/// that an entry of the expiry queue takes 24 bytes, not 32.
type ProofDigest = [u64; 2];
/// A key as counted: a digest of its thumbprint.
type KeyDigest = u64;

#[derive(Debug, Default)]
struct Used {
    ids: HashSet<ProofDigest>,
    /// Which ids leave at each second, oldest first.
    expiring: BTreeMap<i64, Vec<(ProofDigest, KeyDigest)>>,
    per_key: HashMap<KeyDigest, u32>,
}

impl Default for MemoryProofReplayCache {
    fn default() -> Self {
        Self::new(PROOF_SHARE_PER_KEY, MEMORY_REPLAY_CAPACITY)
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

    /// How many proof ids the cache holds now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ids
            .len()
    }

    /// Whether the cache holds no proof id.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Used {
    /// Drops every id whose window ended by `now`, in time order: only the seconds that
    /// ended are touched.
    fn forget_expired(&mut self, now: DateTime<Utc>) {
        while let Some(entry) = self.expiring.first_entry() {
            if *entry.key() > now.timestamp() {
                break;
            }
            for (proof, key) in entry.remove() {
                self.ids.remove(&proof);
                if let Some(count) = self.per_key.get_mut(&key) {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        self.per_key.remove(&key);
                    }
                }
            }
        }
    }
}

fn digests(jkt: &Thumbprint, jti: &str) -> (ProofDigest, KeyDigest) {
    let key = Sha256::digest(jkt.as_str().as_bytes());
    let proof = Sha256::new()
        .chain_update(key)
        .chain_update(jti.as_bytes())
        .finalize();
    ([word(&proof, 0), word(&proof, 8)], word(&key, 0))
}

/// The eight bytes of `digest` from `at` (a SHA-256 digest has 32).
fn word(digest: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    for (slot, byte) in bytes.iter_mut().zip(digest.iter().skip(at)) {
        *slot = *byte;
    }
    u64::from_le_bytes(bytes)
}

#[async_trait]
impl ProofReplayCache for MemoryProofReplayCache {
    async fn first_use(
        &self,
        jkt: &Thumbprint,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ProofUse, StorageError> {
        let (proof, key) = digests(jkt, jti);
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        used.forget_expired(now);
        if used.ids.contains(&proof) {
            return Ok(ProofUse::Replayed);
        }
        let of_key = used.per_key.get(&key).copied().unwrap_or(0);
        if of_key as usize >= self.per_key || used.ids.len() >= self.capacity {
            return Ok(ProofUse::OverShare);
        }
        used.ids.insert(proof);
        used.per_key.insert(key, of_key + 1);
        used.expiring
            .entry(expires_at.timestamp())
            .or_default()
            .push((proof, key));
        Ok(ProofUse::First)
    }
}

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
        let first = cache.first_use(&a, "j1", at(160), at(100)).await.unwrap();
        assert_eq!(first, ProofUse::First);
        let again = cache.first_use(&a, "j1", at(170), at(110)).await.unwrap();
        assert_eq!(again, ProofUse::Replayed, "replay");
        let other = cache.first_use(&b, "j1", at(170), at(110)).await.unwrap();
        assert_eq!(other, ProofUse::First, "another key");
        let later = cache.first_use(&a, "j1", at(230), at(161)).await.unwrap();
        assert_eq!(later, ProofUse::First, "window over");
    }

    #[tokio::test]
    async fn section_9_a_key_beyond_its_share_is_over_share_not_replayed() {
        let cache = MemoryProofReplayCache::new(2, 3);
        let a = key(1);
        for jti in ["1", "2"] {
            let used = cache.first_use(&a, jti, at(160), at(100)).await.unwrap();
            assert_eq!(used, ProofUse::First);
        }
        let third = cache.first_use(&a, "3", at(160), at(100)).await.unwrap();
        assert_eq!(third, ProofUse::OverShare, "the key's share");
        let other = cache.first_use(&key(2), "1", at(160), at(100)).await;
        assert_eq!(other.unwrap(), ProofUse::First, "other keys are unaffected");
        let full = cache.first_use(&key(3), "1", at(160), at(100)).await;
        assert_eq!(
            full.unwrap(),
            ProofUse::OverShare,
            "a full cache records nothing"
        );
        assert_eq!(cache.len(), 3);
        let after = cache.first_use(&key(3), "1", at(260), at(200)).await;
        assert_eq!(after.unwrap(), ProofUse::First, "expired ids go");
        assert_eq!(cache.len(), 1, "every expired id left, in time order");
    }

    /// SPEC §9: legitimate traffic never fills the default cache. 5,000 fresh proofs a
    /// second from 170 keys for two minutes of the manual clock, each remembered for the
    /// default window (60 s and a second): no refusal, and the cache holds one window.
    #[tokio::test]
    async fn section_9_five_thousand_proofs_a_second_for_minutes_are_never_refused() {
        let cache = MemoryProofReplayCache::default();
        let keys: Vec<Thumbprint> = (0..170u8).map(key).collect();
        let mut next = 0u64;
        for second in 0..120i64 {
            let now = at(1_000 + second);
            for _ in 0..5_000 {
                let jkt = keys.get((next % 170) as usize).unwrap();
                let jti = next.to_string();
                next += 1;
                let used = cache.first_use(jkt, &jti, at(1_061 + second), now).await;
                assert_eq!(used.unwrap(), ProofUse::First, "proof {next} at {second} s");
            }
        }
        assert!(
            cache.len() <= 5_000 * 62,
            "one window's proofs: {}",
            cache.len()
        );
    }

    #[tokio::test]
    async fn section_9_ids_leave_when_their_own_window_ends() {
        let cache = MemoryProofReplayCache::default();
        let a = key(1);
        // Recorded out of time order: the later one first.
        cache.first_use(&a, "late", at(300), at(100)).await.unwrap();
        cache
            .first_use(&a, "early", at(200), at(100))
            .await
            .unwrap();
        let early = cache
            .first_use(&a, "early", at(300), at(201))
            .await
            .unwrap();
        assert_eq!(early, ProofUse::First, "its window ended at 200");
        let late = cache.first_use(&a, "late", at(400), at(201)).await.unwrap();
        assert_eq!(late, ProofUse::Replayed, "its window runs to 300");
    }
}
