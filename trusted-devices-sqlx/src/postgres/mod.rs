//! PostgreSQL: devices and refresh tokens.

mod dialect;
mod feed;

pub use dialect::PostgresDialect;

pub use feed::PostgresFeed;

use sqlx::postgres::{PgPool, PgPoolOptions};
use trusted_devices_core::StorageError;

use crate::error::storage_error;
use crate::{MIGRATIONS_TABLE, SqlStore};

/// The stores on one PostgreSQL pool. Cheap to clone; share one per process.
pub type PostgresStore = SqlStore<PostgresDialect>;

impl SqlStore<PostgresDialect> {
    /// A store over an existing pool.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            dialect: PostgresDialect,
        }
    }

    /// Connects a pool of at most 10 connections to `url` (`postgres://…`), every step
    /// bounded by [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT); see
    /// [`connect_with_timeout`](Self::connect_with_timeout).
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        Self::connect_with_timeout(url, crate::DEFAULT_TIMEOUT).await
    }

    /// Connects a pool of at most 10 connections to `url`. Waiting for a connection
    /// (connecting included) gives up after `timeout`, and the server cancels any statement
    /// running longer (`statement_timeout`): while PostgreSQL is unreachable every call is
    /// `Unavailable` within `timeout`, and pooled connections are checked before use, so
    /// calls succeed again as soon as it is back. Build the pool yourself and use
    /// [`new`](Self::new) for other settings.
    pub async fn connect_with_timeout(
        url: &str,
        timeout: std::time::Duration,
    ) -> Result<Self, StorageError> {
        let millis = timeout.as_millis().max(1).to_string();
        let options = url
            .parse::<sqlx::postgres::PgConnectOptions>()
            .map_err(storage_error)?
            .options([("statement_timeout", millis.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(timeout)
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .map_err(storage_error)?;
        Ok(Self::new(pool))
    }

    /// Creates or upgrades the tables. Safe when several servers start at once: the
    /// migrator holds a PostgreSQL advisory lock while it runs.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let mut migrator = sqlx::migrate!("migrations/postgres");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator
            .run(&self.pool)
            .await
            .map_err(StorageError::backend)
    }
}
