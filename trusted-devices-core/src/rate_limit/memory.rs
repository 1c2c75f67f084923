//! Buckets in process memory, for one server.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StorageError;
use crate::rate_limit::{Admit, RateKey, RateLimit, RateLimiter, Take, gcra};

/// How many bytes of buckets a [`MemoryRateLimiter`] keeps by default [16 MiB]: about
/// 100,000 buckets of addresses, fewer of long user names.
pub const MEMORY_RATE_BYTES: u64 = 16 * 1024 * 1024;

/// What one bucket costs besides its key's text: the key, the counter and the cache's own
/// entry.
const BUCKET_OVERHEAD_BYTES: u64 = 96;

/// A bucket weighs its key's bytes: a flood of long keys fills the bound sooner than one
/// of short keys, so memory is bounded in bytes, not in keys (rule K).
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyBytes;

impl quick_cache::Weighter<RateKey, Arc<AtomicI64>> for KeyBytes {
    fn weight(&self, key: &RateKey, _: &Arc<AtomicI64>) -> u64 {
        BUCKET_OVERHEAD_BYTES + u64::try_from(key.subject().len()).unwrap_or(u64::MAX)
    }
}

/// A bucket that was never taken from: full.
const FULL: i64 = i64::MIN;

/// Buckets in a bounded in-memory cache (`quick_cache`), for one server; each check is a
/// compare-and-swap on the bucket's instant, so concurrent requests never take one token
/// twice. When the buckets weigh more than the bound (in bytes, keys included), the least
/// used are forgotten (their buckets start full again): the bound is on memory, and a flood
/// of fresh keys from one address still empties that address's own bucket first.
pub struct MemoryRateLimiter {
    buckets: quick_cache::sync::Cache<RateKey, Arc<AtomicI64>, KeyBytes>,
}

impl std::fmt::Debug for MemoryRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRateLimiter")
            .field("buckets", &self.buckets.len())
            .field("bytes", &self.buckets.weight())
            .finish()
    }
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::new(MEMORY_RATE_BYTES)
    }
}

impl MemoryRateLimiter {
    /// Buckets of at most `bytes` in all, keys included [default: [`MEMORY_RATE_BYTES`]].
    #[must_use]
    pub fn new(bytes: u64) -> Self {
        let bytes = bytes.max(BUCKET_OVERHEAD_BYTES);
        let estimated = usize::try_from(bytes / (BUCKET_OVERHEAD_BYTES + 32)).unwrap_or(1);
        Self {
            buckets: quick_cache::sync::Cache::with_weighter(estimated.max(1), bytes, KeyBytes),
        }
    }

    /// The bytes its buckets weigh now.
    #[must_use]
    pub fn weight(&self) -> u64 {
        self.buckets.weight()
    }

    /// How many buckets are kept now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key's bucket; concurrent first checks of one key share the one inserted.
    fn bucket(&self, key: &RateKey) -> Arc<AtomicI64> {
        let fresh = || Ok::<_, std::convert::Infallible>(Arc::new(AtomicI64::new(FULL)));
        match self.buckets.get_or_insert_with(key, fresh) {
            Ok(bucket) => bucket,
            Err(never) => match never {},
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(
        &self,
        key: &RateKey,
        limit: RateLimit,
        now: DateTime<Utc>,
        take: Take,
    ) -> Result<Admit, StorageError> {
        let bucket = self.bucket(key);
        let mut current = bucket.load(Ordering::Acquire);
        loop {
            let stored = (current != FULL).then_some(current);
            let decision = gcra(stored, now, limit, take);
            let Some(next) = decision.store else {
                return Ok(decision.admit);
            };
            match bucket.compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(decision.admit),
                Err(changed) => current = changed,
            }
        }
    }
}
