//! # trusted-devices-redis
//!
//! Redis implementations of the trusted-devices
//! [`DeviceRepository`](trusted_devices_core::DeviceRepository) and
//! [`TokenStore`](trusted_devices_core::TokenStore), on a single node or a Redis Cluster.
//! Keep everything in Redis, or devices in SQL and tokens here.
//!
//! - Every multi-key rule (create with the device limit or single login, refresh rotation
//!   with the grace rule, revoking all of a user's devices) is one Lua script.
//! - A user's keys share the hash tag `{u:…}` and a device's tokens the tag `{d:…}`, so every
//!   script touches one slot and runs unchanged on a cluster. The refresh token carries its
//!   device id, which is what lets a rotation find its keys without a global index.
//! - Every key has a TTL: the device's (or token's) deadline plus a margin
//!   ([`RedisStore::expiry_margin`], default 7 days). Cleanup deletes expired devices and
//!   reports them well before; the TTL only guarantees that nothing lives for ever.
//! - Stored hashes carry a format version (`v = 1`); another version is refused as corrupt.
//! - Two global sorted sets index deadlines for cleanup. On a cluster they live in their own
//!   slots, so they are updated next to, not inside, the per-user scripts; cleanup re-checks
//!   each candidate inside its user's script, so a stale index entry never deletes a live
//!   device.
//!
//! ```no_run
//! use std::sync::Arc;
//! use trusted_devices_core::{KeyRing, SigningKey, TrustedDevices};
//! use trusted_devices_redis::RedisStore;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = Arc::new(RedisStore::connect("redis://127.0.0.1:6379").await?);
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
//! let service = TrustedDevices::builder(KeyRing::new(key)).tokens(tokens).build();
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audit_log;
mod devices;
mod error;
mod feed;
mod keys;
mod proof_replays;
mod rate_limiter;
mod record;
mod scripts;
mod store;
mod tokens;

pub use error::storage_error;
pub use feed::RedisFeed;
pub use store::DEFAULT_AUDIT_KEY_LIFETIME;
pub use store::{DEFAULT_TIMEOUT, RedisStore};

/// The driver, re-exported so that applications use the same version.
pub use redis;
