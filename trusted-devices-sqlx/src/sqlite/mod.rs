//! SQLite: devices and refresh tokens, in one file or in memory.

mod dialect;

pub use dialect::SqliteDialect;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use trusted_devices_core::StorageError;

use crate::error::storage_error;
use crate::{MIGRATIONS_TABLE, SqlStore};

/// How long a connection waits for another one's write lock before giving up as
/// `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The write-ahead log's length, in pages, at which a commit copies it back into the
/// database file itself (SQLite's `wal_autocheckpoint`; its default is 1,000). The commit
/// that crosses it pays for the copy, and at 1,000 that was a login about once in a
/// hundred beside a large cleanup (6-10 ms each) and one in a thousand idle. At 10,000
/// (about 40 MiB) logins cross it ten times less often and a cleanup's own checkpoints
/// (see `after_cleanup_batch`) copy most of the log first; the rare login that does cross
/// it pays more (tens of milliseconds). `BENCHMARKS.md` has the measurements.
const AUTOCHECKPOINT_PAGES: &str = "10000";

/// The stores on one SQLite pool. Cheap to clone; share one per process.
pub type SqliteStore = SqlStore<SqliteDialect>;

impl SqlStore<SqliteDialect> {
    /// A store over an existing pool. Multi-step rules take the write lock with
    /// `BEGIN IMMEDIATE`; give the pool a busy timeout so that waiting is not an error.
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            dialect: SqliteDialect::default(),
        }
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
                        .synchronous(SqliteSynchronous::Normal)
                        .pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES),
                )
                .await
        };
        Ok(Self::new(pool.map_err(storage_error)?))
    }

    /// A fresh private in-memory database, for tests and single-process use.
    pub async fn in_memory() -> Result<Self, StorageError> {
        Self::connect("sqlite::memory:").await
    }

    /// Creates or upgrades the tables. Safe when several servers start at once on one file.
    ///
    /// sqlx cannot lock an SQLite database for migrating, so two servers may both see a
    /// migration pending; the later one then fails on what the earlier one created. Each
    /// migration commits together with its record, so running the migrator again finds it
    /// applied: a run can fail at most once per migration, and is retried that often (plus
    /// once) before its error is returned.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let mut migrator = sqlx::migrate!("migrations/sqlite");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        let most_attempts = migrator.iter().count() + 1;
        let mut attempts = 1;
        loop {
            match migrator.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(_) if attempts < most_attempts => attempts += 1,
                Err(error) => return Err(StorageError::backend(error)),
            }
        }
    }
}
