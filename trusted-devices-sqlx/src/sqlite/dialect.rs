//! What SQLite does its own way; everything else is the generic store's.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteQueryResult, SqliteRow};
use sqlx::{Sqlite, Transaction};
use trusted_devices_core::{DeviceId, RotateOutcome, Rotation, StorageError};

use super::SqliteStore;
use crate::dialect::{Dialect, sealed::Sealed};
use crate::driver::{Backend, Statement};
use crate::error::{corrupt, storage_error};
use crate::sql::Statements;

/// How many cleanup batches go between two checkpoints of the write-ahead log. Measured
/// beside a cleanup (`BENCHMARKS.md`): every batch copied the same hot index pages again
/// and again; every 8th copies them once, the log staying far below
/// `AUTOCHECKPOINT_PAGES`.
const CHECKPOINT_EVERY: u32 = 8;

/// Matches only a live, unconsumed token of that device.
const CONSUME: &str = "UPDATE td_refresh_tokens \
     SET rotated_at = $3, successor_hash = $4, sealed_successor = $5 \
     WHERE hash = $1 AND device_id = $2 AND rotated_at IS NULL AND expires_at > $3";

/// Rule R: the seals of a device's tokens consumed before the grace are forgotten with
/// each rotation of that device.
const FORGET_DEVICE_SEALS: &str = "UPDATE td_refresh_tokens SET sealed_successor = NULL \
     WHERE device_id = $1 AND rotated_at < $2 AND sealed_successor IS NOT NULL";

/// SQLite's statements: one writer holds the whole database, so cleanup batches have
/// nothing to skip.
static STATEMENTS: LazyLock<Statements> = LazyLock::new(|| Statements::new(""));

/// SQLite's ways: instants as whole microseconds since the Unix epoch, `BEGIN IMMEDIATE`
/// for rules L and R, and checkpoints paid by the cleanup.
#[derive(Debug, Clone, Default)]
pub struct SqliteDialect {
    /// Cleanup batches since the store was made, shared by its clones: every few of them
    /// checkpoint the write-ahead log.
    cleanup_batches: Arc<AtomicU32>,
}

impl Sealed for SqliteDialect {}

impl Backend for SqliteDialect {
    type Db = Sqlite;

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

#[async_trait]
impl Dialect for SqliteDialect {
    fn statements() -> &'static Statements {
        &STATEMENTS
    }

    fn bind_time(statement: Statement<'_, Self>, at: Option<DateTime<Utc>>) -> Statement<'_, Self> {
        statement.bind(at.map(|at| at.timestamp_micros()))
    }

    fn read_time(row: &SqliteRow, column: &str) -> Result<Option<DateTime<Utc>>, StorageError> {
        let micros: Option<i64> = sqlx::Row::try_get(row, column).map_err(storage_error)?;
        micros.map(from_micros).transpose()
    }

    /// Every [`CHECKPOINT_EVERY`] cleanup batches, copies what the write-ahead log holds
    /// back into the database file, without waiting for readers or writers (`PASSIVE`).
    /// Without it the commit that crosses SQLite's auto-checkpoint threshold does the copy,
    /// and under a cleanup of a million devices that commit was most often a login's. Here
    /// the cleanup pays, after its lock is released; not after every batch, since the same
    /// index pages would be copied again each time. Best effort: a checkpoint that cannot
    /// run now leaves the log to the next one, which loses nothing.
    async fn after_cleanup_batch(store: &SqliteStore) {
        let batches = store
            .dialect
            .cleanup_batches
            .fetch_add(1, Ordering::Relaxed);
        if !batches.is_multiple_of(CHECKPOINT_EVERY) {
            return;
        }
        let checkpoint = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&store.pool)
            .await;
        if let Err(error) = checkpoint {
            tracing::debug!(target: "trusted_devices", %error, "sqlite: checkpoint failed");
        }
    }

    /// A transaction holding SQLite's write lock from its first statement (`BEGIN
    /// IMMEDIATE`): no other login can count or insert meanwhile, on any user.
    async fn begin_for_user(
        store: &SqliteStore,
        _user: &str,
    ) -> Result<Transaction<'static, Sqlite>, StorageError> {
        write_transaction(store).await
    }

    /// Looks first without a lock, then consumes, inserts and forgets under the write lock.
    async fn rotate_token(
        store: &SqliteStore,
        rotation: Rotation,
    ) -> Result<RotateOutcome, StorageError> {
        // An unknown (forged), expired or consumed token is answered from a read, so that
        // a flood of them cannot contend the only write lock.
        let stored = store.stored_token(&rotation.presented, None).await?;
        if let Some(outcome) = rotation.refusal(stored.as_ref()) {
            return Ok(outcome);
        }
        let successor = &rotation.successor;
        // The write lock makes the consume, the insert and the read one atomic step.
        let mut tx = write_transaction(store).await?;
        let consumed = sqlx::query(CONSUME)
            .bind(rotation.presented.as_bytes().as_slice())
            .bind(rotation.device_id.as_uuid())
            .bind(rotation.now.timestamp_micros())
            .bind(successor.hash.as_bytes().as_slice())
            .bind(rotation.sealed_successor.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        if consumed.rows_affected() == 1 {
            store.insert_token(successor, Some(&mut tx)).await?;
            sqlx::query(FORGET_DEVICE_SEALS)
                .bind(rotation.device_id.as_uuid())
                .bind(rotation.forget_sealed_before().timestamp_micros())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            tx.commit().await.map_err(storage_error)?;
            return Ok(RotateOutcome::Rotated);
        }
        // Another rotation won since the look. Rule R decides from what is stored now.
        let stored = store
            .stored_token(&rotation.presented, Some(&mut tx))
            .await?;
        tx.rollback().await.map_err(storage_error)?;
        rotation.unconsumed(stored.as_ref())
    }

    /// One statement for up to [`DEVICES_PER_STATEMENT`] devices (SQLite has no arrays to
    /// bind, so each gets a placeholder), so that a cleanup batch's revocation holds the
    /// write lock for one step rather than a round trip per device; more devices than that
    /// are deleted in one transaction.
    async fn revoke_tokens_of(
        store: &SqliteStore,
        devices: &[DeviceId],
    ) -> Result<u64, StorageError> {
        if devices.is_empty() {
            return Ok(0);
        }
        if devices.len() <= DEVICES_PER_STATEMENT {
            let done = delete_tokens_of(devices)
                .execute(&store.pool)
                .await
                .map_err(storage_error)?;
            return Ok(done.rows_affected());
        }
        let mut tx = write_transaction(store).await?;
        let mut removed = 0;
        for chunk in devices.chunks(DEVICES_PER_STATEMENT) {
            let done = delete_tokens_of(chunk)
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            removed += done.rows_affected();
        }
        tx.commit().await.map_err(storage_error)?;
        Ok(removed)
    }
}

/// The most devices one token delete names: within the 999 placeholders older SQLite
/// builds allow.
const DEVICES_PER_STATEMENT: usize = 500;

/// `DELETE ... WHERE device_id IN (?, ..., ?)` for `devices`, bound. Only placeholders are
/// formatted into the text; the ids are bound.
fn delete_tokens_of(
    devices: &[DeviceId],
) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut sql = String::from("DELETE FROM td_refresh_tokens WHERE device_id IN (");
    for index in 0..devices.len() {
        sql.push_str(if index == 0 { "?" } else { ", ?" });
    }
    sql.push(')');
    devices
        .iter()
        .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |query, device| {
            query.bind(device.as_uuid())
        })
}

fn from_micros(micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| corrupt("timestamp", format!("{micros} is out of range")))
}

/// A transaction holding SQLite's write lock from its first statement, so that what it
/// reads cannot change before it writes.
async fn write_transaction(
    store: &SqliteStore,
) -> Result<Transaction<'static, Sqlite>, StorageError> {
    store
        .pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(storage_error)
}
