//! SQLite: devices and refresh tokens, in one file or in memory.

mod devices;
mod tokens;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Decode, Row, Sqlite, Transaction, Type};
use trusted_devices_core::{Device, StorageError};

use crate::MIGRATIONS_TABLE;
use crate::error::{corrupt, storage_error};
use crate::row::DeviceRow;

/// How long a connection waits for another one's write lock before giving up as
/// `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How often `migrate` runs the migrator before giving up (see there).
const MIGRATE_ATTEMPTS: u32 = 3;

/// Both stores on one SQLite pool. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// A store over an existing pool. Multi-step rules take the write lock with
    /// `BEGIN IMMEDIATE`; give the pool a busy timeout so that waiting is not an error.
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// Opens `url` (`sqlite:path/to/file.db`, created if missing) in WAL mode with a busy
    /// timeout. An in-memory URL (`sqlite::memory:`) gets one connection that is never
    /// closed, since every connection would otherwise see its own empty database.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        Self::connect_with_timeout(url, crate::DEFAULT_TIMEOUT).await
    }

    /// As [`connect`](Self::connect), giving up on waiting for a pooled connection after
    /// `timeout`. Waiting for another connection's write lock keeps its own, longer busy
    /// timeout (10 s): that wait is contention on a healthy file, not an outage.
    pub async fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(storage_error)?
            .create_if_missing(true)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = if in_memory {
            SqlitePoolOptions::new()
                .acquire_timeout(timeout)
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            SqlitePoolOptions::new()
                .acquire_timeout(timeout)
                .max_connections(8)
                .connect_with(
                    options
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal),
                )
                .await
        };
        Ok(Self::new(pool.map_err(storage_error)?))
    }

    /// A fresh private in-memory database, for tests and single-process use.
    pub async fn in_memory() -> Result<Self, StorageError> {
        Self::connect("sqlite::memory:").await
    }

    /// The pool, for the application's own queries.
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Creates or upgrades the tables. Safe when several servers start at once on one file.
    ///
    /// sqlx cannot lock an SQLite database for migrating, so two servers may both see a
    /// migration pending; the later one then fails on what the earlier one created. Each
    /// migration commits together with its record, so running the migrator again finds it
    /// applied: a failed run is retried a few times before its error is returned.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let mut migrator = sqlx::migrate!("migrations/sqlite");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        let mut attempts = 1;
        loop {
            match migrator.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(_) if attempts < MIGRATE_ATTEMPTS => attempts += 1,
                Err(error) => return Err(StorageError::backend(error)),
            }
        }
    }

    /// A transaction holding SQLite's write lock from its first statement, so that what it
    /// reads cannot change before it writes.
    async fn write_transaction(&self) -> Result<Transaction<'static, Sqlite>, StorageError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(storage_error)
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

/// Times are stored as whole microseconds since the Unix epoch.
fn micros(instant: DateTime<Utc>) -> i64 {
    instant.timestamp_micros()
}

fn instant(micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| corrupt("timestamp", format!("{micros} is out of range")))
}

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T, StorageError>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(column).map_err(storage_error)
}

fn get_instant(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>, StorageError> {
    instant(get(row, column)?)
}

fn get_optional_instant(
    row: &SqliteRow,
    column: &str,
) -> Result<Option<DateTime<Utc>>, StorageError> {
    get::<Option<i64>>(row, column)?.map(instant).transpose()
}

fn device(row: &SqliteRow) -> Result<Device, StorageError> {
    DeviceRow {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        name: get(row, "name")?,
        user_agent: get(row, "user_agent")?,
        ip: get(row, "ip")?,
        last_ip: get(row, "last_ip")?,
        location: get::<Option<Json<serde_json::Value>>>(row, "location")?.map(|json| json.0),
        created_at: get_instant(row, "created_at")?,
        last_seen_at: get_instant(row, "last_seen_at")?,
        can_delete_other_devices: get(row, "can_delete_other_devices")?,
        can_update_other_devices: get(row, "can_update_other_devices")?,
        metadata: get::<Json<serde_json::Value>>(row, "metadata")?.0,
        idle_expires_at: get_instant(row, "idle_expires_at")?,
        session_expires_at: get_optional_instant(row, "session_expires_at")?,
    }
    .into_device()
}

/// A device query, bound and ready to run.
type DeviceQuery<'q> = sqlx::query::Query<'q, Sqlite, <Sqlite as sqlx::Database>::Arguments>;

impl SqliteStore {
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

fn devices(rows: &[SqliteRow]) -> Result<Vec<Device>, StorageError> {
    rows.iter().map(device).collect()
}
