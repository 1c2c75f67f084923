//! PostgreSQL: devices and refresh tokens.

mod devices;
mod tokens;

use std::fmt;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{Decode, Postgres, Row, Type};
use trusted_devices_core::{Device, StorageError};

use crate::MIGRATIONS_TABLE;
use crate::error::storage_error;
use crate::row::DeviceRow;

/// Both stores on one PostgreSQL pool. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// A store over an existing pool.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
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

    /// The pool, for the application's own queries.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
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

/// The columns every device query returns, in [`device`]'s order.
macro_rules! device_columns {
    () => {
        "id, user_id, name, user_agent, ip, last_ip, location, created_at, last_seen_at, \
         can_delete_other_devices, can_update_other_devices, metadata, idle_expires_at, \
         session_expires_at"
    };
}
pub(crate) use device_columns;

fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T, StorageError>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(column).map_err(storage_error)
}

fn device(row: &PgRow) -> Result<Device, StorageError> {
    DeviceRow {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        name: get(row, "name")?,
        user_agent: get(row, "user_agent")?,
        ip: get(row, "ip")?,
        last_ip: get(row, "last_ip")?,
        location: get::<Option<Json<serde_json::Value>>>(row, "location")?.map(|json| json.0),
        created_at: get(row, "created_at")?,
        last_seen_at: get(row, "last_seen_at")?,
        can_delete_other_devices: get(row, "can_delete_other_devices")?,
        can_update_other_devices: get(row, "can_update_other_devices")?,
        metadata: get::<Json<serde_json::Value>>(row, "metadata")?.0,
        idle_expires_at: get(row, "idle_expires_at")?,
        session_expires_at: get(row, "session_expires_at")?,
    }
    .into_device()
}

/// A device query, bound and ready to run.
type DeviceQuery<'q> = sqlx::query::Query<'q, Postgres, <Postgres as sqlx::Database>::Arguments>;

impl PostgresStore {
    /// Runs a query that returns at most one device row.
    async fn one(&self, query: DeviceQuery<'_>) -> Result<Option<Device>, StorageError> {
        query
            .fetch_optional(&self.pool)
            .await
            .map_err(storage_error)?
            .as_ref()
            .map(device)
            .transpose()
    }

    /// Runs a query that returns device rows.
    async fn many(&self, query: DeviceQuery<'_>) -> Result<Vec<Device>, StorageError> {
        devices(&query.fetch_all(&self.pool).await.map_err(storage_error)?)
    }
}

fn devices(rows: &[PgRow]) -> Result<Vec<Device>, StorageError> {
    rows.iter().map(device).collect()
}
