//! What PostgreSQL does its own way; everything else is `sql_store!`'s.

use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Transaction};
use trusted_devices_core::{
    CreateOutcome, Device, DeviceId, DeviceLimit, DevicePatch, DeviceRepository, EvictionOrder,
    IdleExtension, RefreshRecord, RefreshTokenHash, RotateOutcome, Rotation, Sighting,
    StorageError, TokenStore, UserId,
};

use super::PostgresStore;
use crate::audit_log::sql_audit_log;
use crate::error::storage_error;
use crate::sql_store::{device_columns, sql_store, token_columns};

/// The advisory-lock class of trusted-devices ("td"), so its per-user locks never collide
/// with the application's own advisory locks of a single bigint key.
const LOCK_CLASS: i32 = 0x7464;

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

impl PostgresStore {
    /// Nothing: PostgreSQL's own checkpointer and autovacuum run outside the requests.
    #[allow(clippy::unused_async)]
    async fn after_cleanup_batch(&self) {}

    /// Instants are `TIMESTAMPTZ`.
    fn time(at: DateTime<Utc>) -> DateTime<Utc> {
        at
    }

    fn instant(row: &PgRow, column: &str) -> Result<DateTime<Utc>, StorageError> {
        sqlx::Row::try_get(row, column).map_err(storage_error)
    }

    fn optional_instant(row: &PgRow, column: &str) -> Result<Option<DateTime<Utc>>, StorageError> {
        sqlx::Row::try_get(row, column).map_err(storage_error)
    }

    /// A transaction holding a transaction-scoped advisory lock on `user`: the logins of
    /// one user are serialized across every server until commit.
    async fn begin_for_user(
        &self,
        user: &str,
    ) -> Result<Transaction<'static, Postgres>, StorageError> {
        let mut tx = self.pool.begin().await.map_err(storage_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        Ok(tx)
    }

    /// One statement (see [`ROTATE`]); when it consumed nothing, rule R decides from what
    /// is stored.
    async fn rotate_token(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
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
        let stored = self.stored_token(&rotation.presented, None).await?;
        rotation.unconsumed(stored.as_ref())
    }

    /// One statement over an array of ids.
    async fn revoke_tokens_of(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        let ids: Vec<uuid::Uuid> = devices.iter().map(|id| *id.as_uuid()).collect();
        let done = sqlx::query("DELETE FROM td_refresh_tokens WHERE device_id = ANY($1)")
            .bind(ids)
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(done.rows_affected())
    }
}

// Rows are locked one by one: concurrent cleaners take disjoint batches and never wait.
sql_store!(PostgresStore, row: PgRow, skip_locked: " FOR UPDATE SKIP LOCKED");
sql_audit_log!(PostgresStore, row: PgRow, skip_locked: " FOR UPDATE SKIP LOCKED");
