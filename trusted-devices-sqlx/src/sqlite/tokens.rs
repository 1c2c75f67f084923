use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};
use trusted_devices_core::{
    DeviceId, RefreshRecord, RotateOutcome, Rotation, StorageError, TokenStore,
};

use super::{SqliteStore, get, get_instant, get_optional_instant, micros};
use crate::error::storage_error;
use crate::row::TokenRow;

const INSERT: &str = "INSERT INTO td_refresh_tokens (hash, device_id, user_id, issued_at, \
     expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Matches only a live, unconsumed token of that device.
const CONSUME: &str = "UPDATE td_refresh_tokens \
     SET rotated_at = ?3, successor_hash = ?4, sealed_successor = ?5 \
     WHERE hash = ?1 AND device_id = ?2 AND rotated_at IS NULL AND expires_at > ?3";

/// Rule R: the seals of a device's tokens consumed before the grace are forgotten with
/// each rotation of that device.
const FORGET_DEVICE_SEALS: &str = "UPDATE td_refresh_tokens SET sealed_successor = NULL \
     WHERE device_id = ?1 AND rotated_at < ?2 AND sealed_successor IS NOT NULL";

const SELECT_TOKEN: &str = "SELECT hash, device_id, user_id, issued_at, expires_at, rotated_at, \
     successor_hash, sealed_successor FROM td_refresh_tokens WHERE hash = ?1";

fn record(row: &SqliteRow) -> Result<RefreshRecord, StorageError> {
    TokenRow {
        hash: get(row, "hash")?,
        device_id: get(row, "device_id")?,
        user_id: get(row, "user_id")?,
        issued_at: get_instant(row, "issued_at")?,
        expires_at: get_instant(row, "expires_at")?,
        rotated_at: get_optional_instant(row, "rotated_at")?,
        successor_hash: get(row, "successor_hash")?,
        sealed_successor: get(row, "sealed_successor")?,
    }
    .into_record()
}

impl SqliteStore {
    /// The stored record of the presented token, read in `tx` or from the pool.
    async fn stored_token(
        &self,
        rotation: &Rotation,
        tx: Option<&mut Transaction<'static, Sqlite>>,
    ) -> Result<Option<RefreshRecord>, StorageError> {
        let query = sqlx::query(SELECT_TOKEN).bind(rotation.presented.as_bytes().as_slice());
        let row = match tx {
            Some(tx) => query.fetch_optional(&mut **tx).await,
            None => query.fetch_optional(&self.pool).await,
        };
        row.map_err(storage_error)?.as_ref().map(record).transpose()
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
        sqlx::query(INSERT)
            .bind(record.hash.as_bytes().as_slice())
            .bind(record.device_id.as_uuid())
            .bind(record.user_id.as_str())
            .bind(micros(record.issued_at))
            .bind(micros(record.expires_at))
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        // Look first, without a lock: an unknown (forged), expired or consumed token is
        // answered from a read, so that a flood of them cannot contend the only write lock.
        let stored = self.stored_token(&rotation, None).await?;
        if let Some(outcome) = rotation.refusal(stored.as_ref()) {
            return Ok(outcome);
        }
        let successor = &rotation.successor;
        // The write lock makes the consume, the insert and the read one atomic step.
        let mut tx = self.write_transaction().await?;
        let consumed = sqlx::query(CONSUME)
            .bind(rotation.presented.as_bytes().as_slice())
            .bind(rotation.device_id.as_uuid())
            .bind(micros(rotation.now))
            .bind(successor.hash.as_bytes().as_slice())
            .bind(rotation.sealed_successor.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        if consumed.rows_affected() == 1 {
            sqlx::query(INSERT)
                .bind(successor.hash.as_bytes().as_slice())
                .bind(successor.device_id.as_uuid())
                .bind(successor.user_id.as_str())
                .bind(micros(successor.issued_at))
                .bind(micros(successor.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            sqlx::query(FORGET_DEVICE_SEALS)
                .bind(rotation.device_id.as_uuid())
                .bind(micros(rotation.forget_sealed_before()))
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            tx.commit().await.map_err(storage_error)?;
            return Ok(RotateOutcome::Rotated);
        }
        // Another rotation won since the look. Rule R decides from what is stored now.
        let stored = self.stored_token(&rotation, Some(&mut tx)).await?;
        tx.rollback().await.map_err(storage_error)?;
        rotation.unconsumed(stored.as_ref())
    }

    async fn forget_sealed(
        &self,
        consumed_before: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "UPDATE td_refresh_tokens SET sealed_successor = NULL WHERE hash IN \
             (SELECT hash FROM td_refresh_tokens \
              WHERE sealed_successor IS NOT NULL AND rotated_at < ?1 LIMIT ?2)",
        )
        .bind(micros(consumed_before))
        .bind(i64::from(batch.get()))
        .execute(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(done.rows_affected())
    }

    async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        let mut tx = self.write_transaction().await?;
        let mut removed = 0;
        for device in devices {
            let done = sqlx::query("DELETE FROM td_refresh_tokens WHERE device_id = ?1")
                .bind(device.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            removed += done.rows_affected();
        }
        tx.commit().await.map_err(storage_error)?;
        Ok(removed)
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "DELETE FROM td_refresh_tokens WHERE hash IN (SELECT hash FROM td_refresh_tokens \
             WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
        )
        .bind(micros(now))
        .bind(i64::from(batch.get()))
        .execute(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(done.rows_affected())
    }
}
