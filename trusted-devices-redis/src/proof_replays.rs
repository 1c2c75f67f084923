//! The DPoP `jti` replay cache in Redis (SPEC §9), shared by every server: a proof used on
//! one server is refused on all others within its window. One `SET NX PX` per proof: the
//! check and the record are one atomic step, and the key expires with the window.

use chrono::{DateTime, Utc};
use trusted_devices_core::dpop::{ProofReplayCache, Thumbprint};
use trusted_devices_core::{StorageError, async_trait};

use crate::error::storage_error;
use crate::keys::digest_key;
use crate::store::RedisStore;

/// The proof's key: its own hash tag (one slot on a cluster) holding a digest of the key's
/// thumbprint and the proof's `jti`, since the `jti` is client input of up to 256 bytes.
fn proof_key(prefix: &str, jkt: &Thumbprint, jti: &str) -> String {
    digest_key(prefix, "dpop", &[jkt.as_str().as_bytes(), jti.as_bytes()])
}

/// Memory is bounded by time: each key lives for the proof-age window only (and rule K's
/// limits bound how many requests, hence proofs, a client may send in it).
#[async_trait]
impl<C> ProofReplayCache for RedisStore<C>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync,
{
    async fn first_use(
        &self,
        jkt: &Thumbprint,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        // Relative, so that the Redis server's clock does not matter.
        let lifetime_ms = (expires_at - now).num_milliseconds().max(1);
        let mut connection = self.connection.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(proof_key(self.keys.prefix(), jkt, jti))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(lifetime_ms)
            .query_async(&mut connection)
            .await
            .map_err(storage_error)?;
        Ok(set.is_some())
    }
}
