//! Buckets in process memory, for one server.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StorageError;
use crate::rate_limit::{Admit, RateKey, RateLimit, RateLimiter, Take, gcra};

/// How many buckets a [`MemoryRateLimiter`] keeps by default (about 100 bytes each).
pub const MEMORY_RATE_KEYS: usize = 100_000;

/// A bucket that was never taken from: full.
const FULL: i64 = i64::MIN;

/// Buckets in a bounded in-memory cache (`quick_cache`), for one server; each check is a
/// compare-and-swap on the bucket's instant, so concurrent requests never take one token
/// twice. When more keys are live than the capacity, the least used are forgotten (their
/// buckets start full again): the bound is on memory, and a flood of fresh keys from one
/// address still empties that address's own bucket first.
pub struct MemoryRateLimiter {
    buckets: quick_cache::sync::Cache<RateKey, Arc<AtomicI64>>,
}

impl std::fmt::Debug for MemoryRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRateLimiter")
            .field("buckets", &self.buckets.len())
            .finish()
    }
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::new(MEMORY_RATE_KEYS)
    }
}

impl MemoryRateLimiter {
    /// At most `capacity` buckets [default: [`MEMORY_RATE_KEYS`]].
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            buckets: quick_cache::sync::Cache::new(capacity.max(1)),
        }
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
