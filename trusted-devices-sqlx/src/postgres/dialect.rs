//! What PostgreSQL does its own way; everything else is the generic store's.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::{Postgres, Transaction};
use trusted_devices_core::{DeviceId, RotateOutcome, Rotation, StorageError};

use super::PostgresStore;
use crate::dialect::{Dialect, sealed::Sealed};
use crate::driver::{Backend, Statement};
use crate::error::storage_error;
use crate::sql::Statements;

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

/// PostgreSQL's statements: rows are locked one by one, so concurrent cleaners take
/// disjoint batches and never wait.
static STATEMENTS: LazyLock<Statements> =
    LazyLock::new(|| Statements::new(" FOR UPDATE SKIP LOCKED"));

/// PostgreSQL's ways: `TIMESTAMPTZ` instants, per-user advisory locks for rule L, one
/// statement for rule R's swap and for revoking many devices.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDialect;

impl Sealed for PostgresDialect {}

impl Backend for PostgresDialect {
    type Db = Postgres;

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

#[async_trait]
impl Dialect for PostgresDialect {
    fn statements() -> &'static Statements {
        &STATEMENTS
    }

    fn bind_time(statement: Statement<'_, Self>, at: Option<DateTime<Utc>>) -> Statement<'_, Self> {
        statement.bind(at)
    }

    fn read_time(row: &PgRow, column: &str) -> Result<Option<DateTime<Utc>>, StorageError> {
        sqlx::Row::try_get(row, column).map_err(storage_error)
    }

    /// Nothing: PostgreSQL's own checkpointer and autovacuum run outside the requests.
    async fn after_cleanup_batch(_store: &PostgresStore) {}

    /// A transaction holding a transaction-scoped advisory lock on `user`: the logins of
    /// one user are serialized across every server until commit.
    async fn begin_for_user(
        store: &PostgresStore,
        user: &str,
    ) -> Result<Transaction<'static, Postgres>, StorageError> {
        let mut tx = store.pool.begin().await.map_err(storage_error)?;
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
    async fn rotate_token(
        store: &PostgresStore,
        rotation: Rotation,
    ) -> Result<RotateOutcome, StorageError> {
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
            .execute(&store.pool)
            .await
            .map_err(storage_error)?;
        if swapped.rows_affected() == 1 {
            return Ok(RotateOutcome::Rotated);
        }
        // Not consumed: it was unknown, expired or already rotated. Rule R decides which.
        let stored = store.stored_token(&rotation.presented, None).await?;
        rotation.unconsumed(stored.as_ref())
    }

    /// One statement over an array of ids.
    async fn revoke_tokens_of(
        store: &PostgresStore,
        devices: &[DeviceId],
    ) -> Result<u64, StorageError> {
        let ids: Vec<uuid::Uuid> = devices.iter().map(|id| *id.as_uuid()).collect();
        let done = sqlx::query("DELETE FROM td_refresh_tokens WHERE device_id = ANY($1)")
            .bind(ids)
            .execute(&store.pool)
            .await
            .map_err(storage_error)?;
        Ok(done.rows_affected())
    }
}
