//! The DPoP `jti` replay cache in Redis (SPEC §9), shared by every server: a proof used on
//! one server is refused on all others within its window. One script per proof: the check,
//! the key's share and the record are one atomic step, and every key expires with the
//! window.

use chrono::{DateTime, Utc};
use trusted_devices_core::dpop::{PROOF_SHARE_PER_KEY, ProofReplayCache, ProofUse, Thumbprint};
use trusted_devices_core::{StorageError, async_trait};

use crate::error::storage_error;
use crate::keys::digest_key;
use crate::scripts::PROOF_FIRST_USE;
use crate::store::RedisStore;

/// The key's counter of proofs in its window, under the key's own hash tag (one slot on a
/// cluster for the counter and every proof of the key), holding a digest of the
/// thumbprint.
fn share_key(prefix: &str, jkt: &Thumbprint) -> String {
    digest_key(prefix, "dpop", &[jkt.as_str().as_bytes()])
}

/// The proof's key, beside its key's counter: a digest of the proof's `jti`, since the
/// `jti` is client input of up to 256 bytes.
fn proof_key(share_key: &str, jti: &str) -> String {
    let proof = digest_key("", "", &[jti.as_bytes()]);
    let digest = proof.trim_matches(|c: char| matches!(c, ':' | '{' | '}'));
    format!("{share_key}:{digest}")
}

/// Memory is bounded by time and by share: each proof key lives for the proof-age window
/// only, and one key may record [`PROOF_SHARE_PER_KEY`] proofs per window (counted in a
/// window that starts at the key's first proof: a client at the edge may be told to slow
/// down a little early or late, never that it was robbed).
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
    ) -> Result<ProofUse, StorageError> {
        // Relative, so that the Redis server's clock does not matter.
        let lifetime_ms = (expires_at - now).num_milliseconds().max(1);
        let share = share_key(self.keys.prefix(), jkt);
        let mut connection = self.connection.clone();
        let mut invocation = PROOF_FIRST_USE.prepare_invoke();
        invocation
            .key(&share)
            .key(proof_key(&share, jti))
            .arg(lifetime_ms)
            .arg(PROOF_SHARE_PER_KEY);
        let answer: i64 = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(storage_error)?;
        Ok(match answer {
            1 => ProofUse::First,
            2 => ProofUse::OverShare,
            _ => ProofUse::Replayed,
        })
    }
}
