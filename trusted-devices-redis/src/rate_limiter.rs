//! Rule K's buckets in Redis, shared by every server: one key per bucket, changed by one
//! atomic script (`lua/rate_limit.lua`, the core's `gcra`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use trusted_devices_core::rate_limit::{Admit, RateKey, RateLimit, RateLimiter, Take};
use trusted_devices_core::{StorageError, async_trait};

use crate::error::storage_error;
use crate::keys::digest_key;
use crate::scripts::RATE_LIMIT;
use crate::store::RedisStore;

/// The bucket's key: its own hash tag (one slot on a cluster), holding a digest of the
/// bucket and its subject, since subjects hold client input (user names).
fn bucket_key(prefix: &str, key: &RateKey) -> String {
    digest_key(
        prefix,
        "rl",
        &[key.bucket().name().as_bytes(), key.subject().as_bytes()],
    )
}

#[async_trait]
impl<C> RateLimiter for RedisStore<C>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync,
{
    async fn check(
        &self,
        key: &RateKey,
        limit: RateLimit,
        now: DateTime<Utc>,
        take: Take,
    ) -> Result<Admit, StorageError> {
        let mut connection = self.connection.clone();
        let mut invocation = RATE_LIMIT.prepare_invoke();
        invocation
            .key(bucket_key(self.keys.prefix(), key))
            .arg(now.timestamp_micros())
            .arg(limit.interval_micros())
            .arg(limit.burst_micros())
            .arg(if take == Take::One { "1" } else { "0" });
        let (admitted, wait): (i64, i64) = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(storage_error)?;
        Ok(if admitted == 1 {
            Admit::Yes
        } else {
            let wait = u64::try_from(wait).unwrap_or(0);
            Admit::RetryAfter(Duration::from_micros(wait))
        })
    }
}
