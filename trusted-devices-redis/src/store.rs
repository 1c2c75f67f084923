use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;
use trusted_devices_core::StorageError;

use crate::error::storage_error;
use crate::keys::Keys;

/// How long a user's history keys live after their latest entry, by default: beyond any
/// sensible retention (cleanup deletes by the policy's `audit_retention` long before), so
/// that nothing in Redis lives for ever.
pub const DEFAULT_AUDIT_KEY_LIFETIME: Duration = Duration::from_secs(400 * 86_400);

/// Both stores over one Redis connection: a [`ConnectionManager`] to one node (reconnects
/// by itself) or a [`ClusterConnection`]. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct RedisStore<C = ConnectionManager> {
    pub(crate) connection: C,
    pub(crate) keys: Keys,
    margin: Duration,
    audit_lifetime: Duration,
}

impl<C> fmt::Debug for RedisStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("keys", &self.keys)
            .field("expiry_margin", &self.margin)
            .finish_non_exhaustive()
    }
}

/// Keys live this long past their deadline unless cleanup deletes them first.
const DEFAULT_MARGIN: Duration = Duration::from_secs(7 * 86_400);

/// The bound on connecting and on each answer when none is given [1 s].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

impl RedisStore<ConnectionManager> {
    /// Connects to one Redis node (`redis://host:port/db`), bounding connects and answers
    /// by [`DEFAULT_TIMEOUT`].
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        Self::connect_with_timeout(url, DEFAULT_TIMEOUT).await
    }

    /// Connects to one Redis node; each connection attempt and each answer is bounded by
    /// `timeout`, and a lost connection is re-established with one quick retry per call, so
    /// that while Redis is down every call fails within about twice `timeout`
    /// (`Unavailable`), and the first call after it is back succeeds.
    pub async fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self, StorageError> {
        let client = redis::Client::open(url).map_err(storage_error)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(timeout / 4);
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(storage_error)?;
        Ok(Self::new(connection))
    }
}

impl RedisStore<ClusterConnection> {
    /// Connects to a Redis Cluster through any of its nodes, bounding connects and answers
    /// by [`DEFAULT_TIMEOUT`].
    pub async fn connect_cluster(nodes: &[&str]) -> Result<Self, StorageError> {
        let client = redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
            .connection_timeout(DEFAULT_TIMEOUT)
            .response_timeout(DEFAULT_TIMEOUT)
            .build()
            .map_err(storage_error)?;
        let connection = client.get_async_connection().await.map_err(storage_error)?;
        Ok(Self::new(connection))
    }
}

impl<C> RedisStore<C> {
    /// A store over an existing connection, with the default key prefix `td`.
    #[must_use]
    pub fn new(connection: C) -> Self {
        Self {
            connection,
            keys: Keys::new("td"),
            margin: DEFAULT_MARGIN,
            audit_lifetime: DEFAULT_AUDIT_KEY_LIFETIME,
        }
    }

    /// Puts every key under `prefix` [default: `td`].
    #[must_use]
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.keys = Keys::new(prefix);
        self
    }

    /// How long keys outlive their deadline unless cleanup deletes them first
    /// [default: 7 days].
    #[must_use]
    pub fn expiry_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The absolute expiry (Unix ms) of a key whose record ends at `deadline`.
    /// How long a user's history keys live after their latest entry [default: 400 days,
    /// `DEFAULT_AUDIT_KEY_LIFETIME`]; keep it above the policy's `audit_retention`.
    #[must_use]
    pub fn audit_key_lifetime(mut self, lifetime: Duration) -> Self {
        self.audit_lifetime = lifetime;
        self
    }

    pub(crate) fn audit_lifetime(&self) -> Duration {
        self.audit_lifetime
    }

    pub(crate) fn expire_at(&self, deadline: DateTime<Utc>) -> i64 {
        let margin = i64::try_from(self.margin.as_millis()).unwrap_or(i64::MAX);
        deadline.timestamp_millis().saturating_add(margin)
    }

    /// Adds `member` to the sorted set `key` with `score`, and makes `key` live at least
    /// until `expire_at` (Unix ms): a TTL on a key without one (`NX`), and only ever a longer
    /// one (`GT`). One pipeline to one key, so one round trip on a cluster too.
    pub(crate) async fn index_member(
        &self,
        key: &str,
        member: &str,
        score: i64,
        expire_at: i64,
    ) -> Result<(), StorageError>
    where
        C: redis::aio::ConnectionLike + Clone,
    {
        let mut connection = self.connection.clone();
        let mut pipe = redis::pipe();
        pipe.zadd(key, member, score).ignore();
        for condition in ["NX", "GT"] {
            pipe.cmd("PEXPIREAT")
                .arg(key)
                .arg(expire_at)
                .arg(condition)
                .ignore();
        }
        pipe.query_async::<()>(&mut connection)
            .await
            .map_err(crate::error::storage_error)
    }

    /// Runs a script that declares its keys from a read of an index: `attempt` reads the
    /// index, invokes the script and answers `None` when the script reported (`-1`, having
    /// written nothing) that the index changed since the read. Tried a bounded number of
    /// times, then `Unavailable`: only a user whose devices change without pause can hit it.
    pub(crate) async fn with_declared_keys<T, F, Fut>(
        &self,
        mut attempt: F,
    ) -> Result<T, StorageError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, StorageError>>,
    {
        for _ in 0..DECLARED_KEY_ATTEMPTS {
            if let Some(done) = attempt().await? {
                return Ok(done);
            }
        }
        Err(StorageError::unavailable(std::io::Error::other(
            "an index kept changing while a script was declaring its keys",
        )))
    }
}

/// How often a script is tried again when the index it declared its keys from changed.
/// Each round lets at least one of the racing calls through, so this many concurrent
/// logins of one user (single login, eviction) always complete.
const DECLARED_KEY_ATTEMPTS: usize = 100;

/// Whether a script answered that the index changed since its keys were read (`{-1}`).
pub(crate) fn index_changed(answer: &[redis::Value]) -> bool {
    matches!(answer.first(), Some(redis::Value::Int(-1)))
}
