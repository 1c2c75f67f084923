use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use trusted_devices_core::{
    CreateOutcome, Device, DeviceId, DeviceLimit, DevicePatch, DeviceRepository, EvictionOrder,
    Sighting, StorageError, UserId,
};

use super::{PostgresStore, device_columns, devices};
use crate::error::storage_error;
use crate::eviction::{Plan, plan};
use crate::row::{location_json, metadata_json};

/// The advisory-lock class of trusted-devices ("td"), so its per-user locks never collide
/// with the application's own advisory locks of a single bigint key.
const LOCK_CLASS: i32 = 0x7464;

const INSERT: &str = "INSERT INTO td_devices (id, user_id, name, user_agent, ip, last_ip, \
     location, created_at, last_seen_at, can_delete_other_devices, can_update_other_devices, \
     metadata, idle_expires_at, session_expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

const EVICT_LEAST_RECENTLY_USED: &str = concat!(
    "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices WHERE user_id = $1 \
     ORDER BY last_seen_at, id LIMIT $2) RETURNING ",
    device_columns!()
);

const EVICT_OLDEST: &str = concat!(
    "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices WHERE user_id = $1 \
     ORDER BY created_at, id LIMIT $2) RETURNING ",
    device_columns!()
);

#[async_trait]
impl DeviceRepository for PostgresStore {
    async fn create(
        &self,
        device_row: Device,
        limit: DeviceLimit,
    ) -> Result<CreateOutcome, StorageError> {
        let user = device_row.user_id.as_str();
        let mut tx = self.pool.begin().await.map_err(storage_error)?;
        // Serializes the logins of one user across every server until commit.
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        let held: i64 = if limit.counts_devices() {
            sqlx::query_scalar("SELECT count(*) FROM td_devices WHERE user_id = $1")
                .bind(user)
                .fetch_one(&mut *tx)
                .await
                .map_err(storage_error)?
        } else {
            0
        };
        let mut displaced = Vec::new();
        match plan(&limit, held) {
            Plan::Insert => {}
            Plan::Reject => return Ok(CreateOutcome::LimitReached),
            Plan::Evict { order, limit } => {
                let sql = match order {
                    EvictionOrder::LeastRecentlyUsed => EVICT_LEAST_RECENTLY_USED,
                    EvictionOrder::Oldest => EVICT_OLDEST,
                };
                let rows = sqlx::query(sql)
                    .bind(user)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(storage_error)?;
                displaced = devices(&rows)?;
                order.sort(&mut displaced);
            }
        }
        let d = &device_row;
        sqlx::query(INSERT)
            .bind(d.id.as_uuid())
            .bind(user)
            .bind(d.name.as_str())
            .bind(&d.user_agent)
            .bind(d.ip.map(|ip| ip.to_string()))
            .bind(d.last_ip.map(|ip| ip.to_string()))
            .bind(location_json(d).map(Json))
            .bind(d.created_at)
            .bind(d.last_seen_at)
            .bind(d.can_delete_other_devices)
            .bind(d.can_update_other_devices)
            .bind(Json(metadata_json(d)))
            .bind(d.idle_expires_at)
            .bind(d.session_expires_at)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        tx.commit().await.map_err(storage_error)?;
        Ok(CreateOutcome::Created { displaced })
    }

    async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError> {
        self.one(
            sqlx::query(concat!(
                "SELECT ",
                device_columns!(),
                " FROM td_devices WHERE id = $1"
            ))
            .bind(id.as_uuid()),
        )
        .await
    }

    async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.many(
            sqlx::query(concat!(
                "SELECT ",
                device_columns!(),
                " FROM td_devices WHERE user_id = $1 ORDER BY created_at, id"
            ))
            .bind(user.as_str()),
        )
        .await
    }

    async fn update(
        &self,
        user: &UserId,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Option<Device>, StorageError> {
        self.one(
            sqlx::query(concat!(
                "UPDATE td_devices SET name = COALESCE($3, name), \
             can_delete_other_devices = COALESCE($4, can_delete_other_devices), \
             can_update_other_devices = COALESCE($5, can_update_other_devices) \
             WHERE id = $1 AND user_id = $2 RETURNING ",
                device_columns!()
            ))
            .bind(id.as_uuid())
            .bind(user.as_str())
            .bind(patch.name.as_ref().map(|name| name.as_str()))
            .bind(patch.can_delete_other_devices)
            .bind(patch.can_update_other_devices),
        )
        .await
    }

    async fn record_seen(&self, id: DeviceId, sighting: Sighting) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE td_devices SET last_seen_at = $2, last_ip = COALESCE($3, last_ip) \
             WHERE id = $1 AND last_seen_at <= $4",
        )
        .bind(id.as_uuid())
        .bind(sighting.at)
        .bind(sighting.ip.map(|ip| ip.to_string()))
        .bind(sighting.stale_before)
        .execute(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn extend_idle(
        &self,
        id: DeviceId,
        sighting: Sighting,
        idle_expires_at: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError> {
        // SET expressions all read the row as it was, so both CASEs test the old value.
        self.one(
            sqlx::query(concat!(
                "UPDATE td_devices SET idle_expires_at = $2, \
             last_seen_at = CASE WHEN last_seen_at <= $5 THEN $3 ELSE last_seen_at END, \
             last_ip = CASE WHEN last_seen_at <= $5 THEN COALESCE($4, last_ip) ELSE last_ip END \
             WHERE id = $1 RETURNING ",
                device_columns!()
            ))
            .bind(id.as_uuid())
            .bind(idle_expires_at)
            .bind(sighting.at)
            .bind(sighting.ip.map(|ip| ip.to_string()))
            .bind(sighting.stale_before),
        )
        .await
    }

    async fn delete(&self, user: &UserId, id: DeviceId) -> Result<Option<Device>, StorageError> {
        self.one(
            sqlx::query(concat!(
                "DELETE FROM td_devices WHERE id = $1 AND user_id = $2 RETURNING ",
                device_columns!()
            ))
            .bind(id.as_uuid())
            .bind(user.as_str()),
        )
        .await
    }

    async fn delete_others(
        &self,
        user: &UserId,
        keep: DeviceId,
    ) -> Result<Vec<Device>, StorageError> {
        self.many(
            sqlx::query(concat!(
                "DELETE FROM td_devices WHERE user_id = $1 AND id <> $2 RETURNING ",
                device_columns!()
            ))
            .bind(user.as_str())
            .bind(keep.as_uuid()),
        )
        .await
    }

    async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.many(
            sqlx::query(concat!(
                "DELETE FROM td_devices WHERE user_id = $1 RETURNING ",
                device_columns!()
            ))
            .bind(user.as_str()),
        )
        .await
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<Vec<Device>, StorageError> {
        // SKIP LOCKED: concurrent cleaners take disjoint batches and never wait.
        self.many(sqlx::query(concat!(
            "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices WHERE deadline <= $1 \
             ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING ",
            device_columns!()
        ))
        .bind(now)
        .bind(i64::from(batch.get()))).await
    }
}
