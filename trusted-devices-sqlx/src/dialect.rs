//! What each database does its own way, as one trait that [`SqlStore`] is generic over;
//! everything else is written once in `store.rs`, `tokens.rs` and `audit_log.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Transaction;
use sqlx::types::Json;
use trusted_devices_core::{DeviceId, RotateOutcome, Rotation, StorageError};
use uuid::Uuid;

use crate::SqlStore;
use crate::driver::{Binds, Reads, RowOf, Runs};
use crate::sql::Statements;

/// A database the SQL stores run on: [`SqliteDialect`](crate::SqliteDialect) and
/// [`PostgresDialect`](crate::PostgresDialect). Implemented by this crate only.
///
/// Its supertraits list the column types the stores bind and read, so the generic code
/// needs no other bound.
#[async_trait]
pub trait Dialect:
    Runs
    + sealed::Sealed
    + Binds<Uuid>
    + Binds<Option<Uuid>>
    + for<'a> Binds<&'a str>
    + Binds<Option<String>>
    + Binds<bool>
    + Binds<Option<bool>>
    + Binds<i64>
    + for<'a> Binds<&'a [u8]>
    + Binds<Json<Value>>
    + Binds<Option<Json<Value>>>
    + Reads<Uuid>
    + Reads<Option<Uuid>>
    + Reads<String>
    + Reads<Option<String>>
    + Reads<bool>
    + Reads<i64>
    + Reads<Vec<u8>>
    + Reads<Option<Vec<u8>>>
    + Reads<Json<Value>>
    + Reads<Option<Json<Value>>>
{
    /// Every statement, with this database's cleanup clause.
    #[doc(hidden)]
    fn statements() -> &'static Statements;

    /// `query` with the instant `at` bound (whole microseconds, or a `TIMESTAMPTZ`).
    #[doc(hidden)]
    fn bind_time(
        statement: crate::driver::Statement<'_, Self>,
        at: Option<DateTime<Utc>>,
    ) -> crate::driver::Statement<'_, Self>;

    /// The instant in `column`, if any.
    #[doc(hidden)]
    fn read_time(row: &RowOf<Self>, column: &str) -> Result<Option<DateTime<Utc>>, StorageError>;

    /// A transaction in which no other login of `user` can count or insert (a per-user
    /// advisory lock, or SQLite's write lock).
    #[doc(hidden)]
    async fn begin_for_user(
        store: &SqlStore<Self>,
        user: &str,
    ) -> Result<Transaction<'static, Self::Db>, StorageError>;

    /// Rule R's compare-and-swap: one statement with a CTE, or a look and a transaction.
    #[doc(hidden)]
    async fn rotate_token(
        store: &SqlStore<Self>,
        rotation: Rotation,
    ) -> Result<RotateOutcome, StorageError>;

    /// Deletes every token of `devices`: one statement over an array, or over placeholders.
    #[doc(hidden)]
    async fn revoke_tokens_of(
        store: &SqlStore<Self>,
        devices: &[DeviceId],
    ) -> Result<u64, StorageError>;

    /// What the database needs after a cleanup batch's delete (SQLite copies its
    /// write-ahead log back now and then, so that requests do not; PostgreSQL nothing).
    #[doc(hidden)]
    async fn after_cleanup_batch(store: &SqlStore<Self>);
}

pub(crate) mod sealed {
    /// Only this crate's databases are dialects: the statements and their guarantees are
    /// tested for these two.
    pub trait Sealed {}
}
