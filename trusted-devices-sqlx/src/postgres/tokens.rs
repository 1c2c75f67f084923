use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use trusted_devices_core::{
    DeviceId, RefreshRecord, RotateOutcome, Rotation, StorageError, TokenStore,
};

use super::{PostgresStore, get};
use crate::error::storage_error;
use crate::row::TokenRow;

/// Consumes the presented token and inserts its successor in one statement: the `UPDATE`
/// matches only a live, unconsumed token, and the `INSERT` runs only if it matched. Two
/// concurrent rotations serialize on the row; the second finds it consumed.
///
/// With a rotation, the seals of the device's tokens consumed before the grace
/// (`$10`) are forgotten (rule R): the second `UPDATE` sees the statement's snapshot, so it
/// never touches the row being consumed.
const ROTATE: &str = "WITH consumed AS ( \
       UPDATE td_refresh_tokens \
       SET rotated_at = $3, successor_hash = $4, sealed_successor = $5 \
       WHERE hash = $1 AND device_id = $2 AND rotated_at IS NULL AND expires_at > $3 \
       RETURNING hash), \
     forgotten AS ( \
       UPDATE td_refresh_tokens SET sealed_successor = NULL \
       WHERE device_id = $2 AND rotated_at < $10 AND sealed_successor IS NOT NULL \
         AND EXISTS (SELECT 1 FROM consumed)) \
     INSERT INTO td_refresh_tokens (hash, device_id, user_id, issued_at, expires_at) \
     SELECT $4, $6, $7, $8, $9 FROM consumed";

const SELECT_TOKEN: &str = "SELECT hash, device_id, user_id, issued_at, expires_at, rotated_at, \
     successor_hash, sealed_successor FROM td_refresh_tokens WHERE hash = $1";

fn record(row: &PgRow) -> Result<RefreshRecord, StorageError> {
    TokenRow {
        hash: get(row, "hash")?,
        device_id: get(row, "device_id")?,
        user_id: get(row, "user_id")?,
        issued_at: get(row, "issued_at")?,
        expires_at: get(row, "expires_at")?,
        rotated_at: get(row, "rotated_at")?,
        successor_hash: get(row, "successor_hash")?,
        sealed_successor: get(row, "sealed_successor")?,
    }
    .into_record()
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO td_refresh_tokens (hash, device_id, user_id, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(record.hash.as_bytes().as_slice())
        .bind(record.device_id.as_uuid())
        .bind(record.user_id.as_str())
        .bind(record.issued_at)
        .bind(record.expires_at)
        .execute(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        let successor = &rotation.successor;
        let swapped = sqlx::query(ROTATE)
            .bind(rotation.presented.as_bytes().as_slice())
            .bind(rotation.device_id.as_uuid())
            .bind(rotation.now)
            .bind(successor.hash.as_bytes().as_slice())
            .bind(rotation.sealed_successor.as_bytes().as_slice())
            .bind(successor.device_id.as_uuid())
            .bind(successor.user_id.as_str())
            .bind(successor.issued_at)
            .bind(successor.expires_at)
            .bind(rotation.forget_sealed_before())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        if swapped.rows_affected() == 1 {
            return Ok(RotateOutcome::Rotated);
        }
        // Not consumed: it was unknown, expired or already rotated. Rule R decides which.
        let stored = sqlx::query(SELECT_TOKEN)
            .bind(rotation.presented.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage_error)?
            .as_ref()
            .map(record)
            .transpose()?;
        rotation.unconsumed(stored.as_ref())
    }

    async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        let ids: Vec<uuid::Uuid> = devices.iter().map(|id| *id.as_uuid()).collect();
        let done = sqlx::query("DELETE FROM td_refresh_tokens WHERE device_id = ANY($1)")
            .bind(ids)
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(done.rows_affected())
    }

    async fn forget_sealed(
        &self,
        consumed_before: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "UPDATE td_refresh_tokens SET sealed_successor = NULL WHERE hash IN \
             (SELECT hash FROM td_refresh_tokens \
              WHERE sealed_successor IS NOT NULL AND rotated_at < $1 \
              LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(consumed_before)
        .bind(i64::from(batch.get()))
        .execute(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(done.rows_affected())
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "DELETE FROM td_refresh_tokens WHERE hash IN (SELECT hash FROM td_refresh_tokens \
             WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now)
        .bind(i64::from(batch.get()))
        .execute(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(done.rows_affected())
    }
}
