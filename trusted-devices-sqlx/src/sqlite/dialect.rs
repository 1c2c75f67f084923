//! What SQLite does its own way; everything else is `sql_store!`'s.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};
use trusted_devices_core::{
    CreateOutcome, Device, DeviceId, DeviceLimit, DevicePatch, DeviceRepository, EvictionOrder,
    IdleExtension, RefreshRecord, RefreshTokenHash, RotateOutcome, Rotation, Sighting,
    StorageError, TokenStore, UserId,
};

use super::SqliteStore;
use crate::audit_log::sql_audit_log;
use crate::error::{corrupt, storage_error};
use crate::sql_store::{device_columns, sql_store, token_columns};

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

impl SqliteStore {
    /// Instants are whole microseconds since the Unix epoch.
    fn time(at: DateTime<Utc>) -> i64 {
        at.timestamp_micros()
    }

    fn instant(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>, StorageError> {
        let micros: i64 = sqlx::Row::try_get(row, column).map_err(storage_error)?;
        from_micros(micros)
    }

    fn optional_instant(
        row: &SqliteRow,
        column: &str,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
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
    async fn after_cleanup_batch(&self) {
        let batches = self.cleanup_batches.fetch_add(1, Ordering::Relaxed);
        if !batches.is_multiple_of(CHECKPOINT_EVERY) {
            return;
        }
        let checkpoint = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await;
        if let Err(error) = checkpoint {
            tracing::debug!(target: "trusted_devices", %error, "sqlite: checkpoint failed");
        }
    }

    /// A transaction holding SQLite's write lock from its first statement (`BEGIN
    /// IMMEDIATE`): no other login can count or insert meanwhile, on any user.
    async fn begin_for_user(
        &self,
        _user: &str,
    ) -> Result<Transaction<'static, Sqlite>, StorageError> {
        self.write_transaction().await
    }

    /// Looks first without a lock, then consumes, inserts and forgets under the write lock.
    async fn rotate_token(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        // An unknown (forged), expired or consumed token is answered from a read, so that
        // a flood of them cannot contend the only write lock.
        let stored = self.stored_token(&rotation.presented, None).await?;
        if let Some(outcome) = rotation.refusal(stored.as_ref()) {
            return Ok(outcome);
        }
        let successor = &rotation.successor;
        // The write lock makes the consume, the insert and the read one atomic step.
        let mut tx = self.write_transaction().await?;
        let consumed = sqlx::query(CONSUME)
            .bind(rotation.presented.as_bytes().as_slice())
            .bind(rotation.device_id.as_uuid())
            .bind(Self::time(rotation.now))
            .bind(successor.hash.as_bytes().as_slice())
            .bind(rotation.sealed_successor.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        if consumed.rows_affected() == 1 {
            self.insert_token(successor, Some(&mut tx)).await?;
            sqlx::query(FORGET_DEVICE_SEALS)
                .bind(rotation.device_id.as_uuid())
                .bind(Self::time(rotation.forget_sealed_before()))
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            tx.commit().await.map_err(storage_error)?;
            return Ok(RotateOutcome::Rotated);
        }
        // Another rotation won since the look. Rule R decides from what is stored now.
        let stored = self
            .stored_token(&rotation.presented, Some(&mut tx))
            .await?;
        tx.rollback().await.map_err(storage_error)?;
        rotation.unconsumed(stored.as_ref())
    }

    /// One statement for up to [`DEVICES_PER_STATEMENT`] devices (SQLite has no arrays to
    /// bind, so each gets a placeholder), so that a cleanup batch's revocation holds the
    /// write lock for one step rather than a round trip per device; more devices than that
    /// are deleted in one transaction.
    async fn revoke_tokens_of(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        if devices.is_empty() {
            return Ok(0);
        }
        if devices.len() <= DEVICES_PER_STATEMENT {
            let done = delete_tokens_of(devices)
                .execute(&self.pool)
                .await
                .map_err(storage_error)?;
            return Ok(done.rows_affected());
        }
        let mut tx = self.write_transaction().await?;
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

// One writer holds the whole database: there is nothing to skip.
sql_store!(SqliteStore, row: SqliteRow, skip_locked: "");
sql_audit_log!(SqliteStore, row: SqliteRow, skip_locked: "");
