//! [`SqlStore`]: both storage traits (and the audit log) for any [`Dialect`], written once.
//! This file holds the store and rule L's device repository; `tokens.rs` the token store,
//! `audit_log.rs` the history. Every instant is the core's: the session's end (`deadline`,
//! which cleanup reads) is written as `Device::deadline()` and `IdleExtension` give it,
//! never computed here.

use std::fmt;
use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Pool;
use sqlx::types::Json;
use trusted_devices_core::{
    CreateOutcome, Device, DeviceId, DeviceLimit, DevicePatch, DeviceRepository, EvictionOrder,
    IdleExtension, Sighting, StorageError, UserId,
};

use crate::dialect::Dialect;
use crate::driver::{On, Reads, RowOf, Statement};
use crate::eviction::{self, Plan};
use crate::row::{self, DeviceRow};

/// The device repository, token store and audit log over one pool of the database `D`
/// ([`SqliteStore`](crate::SqliteStore), [`PostgresStore`](crate::PostgresStore)). Cheap to
/// clone; share one per process.
pub struct SqlStore<D: Dialect> {
    pub(crate) pool: Pool<D::Db>,
    pub(crate) dialect: D,
}

impl<D: Dialect + Clone> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            dialect: self.dialect.clone(),
        }
    }
}

/// Names the store and nothing else: the pool's options may hold a password.
impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("database", &<D::Db as sqlx::Database>::NAME)
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> SqlStore<D> {
    /// The pool, for the application's own queries.
    #[must_use]
    pub fn pool(&self) -> &Pool<D::Db> {
        &self.pool
    }

    /// A statement with an instant bound to its next placeholder.
    pub(crate) fn at(statement: Statement<'_, D>, at: DateTime<Utc>) -> Statement<'_, D> {
        D::bind_time(statement, Some(at))
    }

    /// Runs a statement that returns at most one device row.
    async fn one(&self, statement: Statement<'_, D>) -> Result<Option<Device>, StorageError> {
        statement
            .fetch_optional(On::Pool(&self.pool))
            .await?
            .as_ref()
            .map(device::<D>)
            .transpose()
    }

    /// Runs a statement that returns device rows.
    async fn many(&self, statement: Statement<'_, D>) -> Result<Vec<Device>, StorageError> {
        devices::<D>(&statement.fetch_all(On::Pool(&self.pool)).await?)
    }
}

/// A stored instant that must be there.
pub(crate) fn instant<D: Dialect>(
    row: &RowOf<D>,
    column: &str,
) -> Result<DateTime<Utc>, StorageError> {
    D::read_time(row, column)?.ok_or_else(|| StorageError::corrupt(format!("{column}: missing")))
}

fn device<D: Dialect>(row: &RowOf<D>) -> Result<Device, StorageError> {
    DeviceRow {
        id: D::read(row, "id")?,
        user_id: D::read(row, "user_id")?,
        name: D::read(row, "name")?,
        user_agent: D::read(row, "user_agent")?,
        ip: D::read(row, "ip")?,
        last_ip: D::read(row, "last_ip")?,
        location: <D as Reads<Option<Json<serde_json::Value>>>>::read(row, "location")?
            .map(|json| json.0),
        created_at: instant::<D>(row, "created_at")?,
        last_seen_at: instant::<D>(row, "last_seen_at")?,
        can_delete_other_devices: D::read(row, "can_delete_other_devices")?,
        can_update_other_devices: D::read(row, "can_update_other_devices")?,
        metadata: <D as Reads<Json<serde_json::Value>>>::read(row, "metadata")?.0,
        idle_expires_at: instant::<D>(row, "idle_expires_at")?,
        session_expires_at: D::read_time(row, "session_expires_at")?,
        dpop_jkt: D::read(row, "dpop_jkt")?,
    }
    .into_device()
}

fn devices<D: Dialect>(rows: &[RowOf<D>]) -> Result<Vec<Device>, StorageError> {
    rows.iter().map(device::<D>).collect()
}

#[async_trait]
impl<D: Dialect> DeviceRepository for SqlStore<D> {
    async fn create(&self, new: Device, limit: DeviceLimit) -> Result<CreateOutcome, StorageError> {
        let sql = D::statements();
        let user = new.user_id.as_str();
        let mut tx = D::begin_for_user(self, user).await?;
        let held: i64 = if limit.counts_devices() {
            let row = Statement::<D>::new(sql.count_devices)
                .bind(user)
                .fetch_optional(On::Transaction(&mut tx))
                .await?;
            match row {
                Some(row) => <D as Reads<i64>>::read(&row, "held")?,
                None => 0,
            }
        } else {
            0
        };
        let mut displaced = Vec::new();
        match eviction::plan(&limit, held) {
            Plan::Insert => {}
            Plan::Reject => return Ok(CreateOutcome::LimitReached),
            Plan::Evict { order, limit } => {
                let evict = match order {
                    EvictionOrder::LeastRecentlyUsed => &sql.evict_least_recently_used,
                    EvictionOrder::Oldest => &sql.evict_oldest,
                };
                let rows = Statement::<D>::new(evict)
                    .bind(user)
                    .bind(limit)
                    .fetch_all(On::Transaction(&mut tx))
                    .await?;
                displaced = devices::<D>(&rows)?;
                order.sort(&mut displaced);
            }
        }
        let insert = Statement::<D>::new(&sql.insert_device)
            .bind(*new.id.as_uuid())
            .bind(user)
            .bind(new.name.as_str())
            .bind(new.user_agent.as_str())
            .bind(new.ip.map(|ip| ip.to_string()))
            .bind(new.last_ip.map(|ip| ip.to_string()))
            .bind(row::location_json(&new).map(Json));
        let insert = Self::at(Self::at(insert, new.created_at), new.last_seen_at)
            .bind(new.can_delete_other_devices)
            .bind(new.can_update_other_devices)
            .bind(Json(row::metadata_json(&new)));
        let insert = Self::at(insert, new.idle_expires_at);
        let insert = D::bind_time(insert, new.session_expires_at);
        Self::at(insert, new.deadline())
            .bind(new.dpop_jkt.as_ref().map(|jkt| jkt.as_str().to_owned()))
            .execute(On::Transaction(&mut tx))
            .await?;
        tx.commit().await.map_err(crate::storage_error)?;
        Ok(CreateOutcome::Created { displaced })
    }

    async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError> {
        self.one(Statement::new(&D::statements().get_device).bind(*id.as_uuid()))
            .await
    }

    async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.many(Statement::new(&D::statements().list_devices).bind(user.as_str()))
            .await
    }

    async fn update(
        &self,
        user: &UserId,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Option<Device>, StorageError> {
        self.one(
            Statement::new(&D::statements().update_device)
                .bind(*id.as_uuid())
                .bind(user.as_str())
                .bind(patch.name.as_ref().map(|name| name.as_str().to_owned()))
                .bind(patch.can_delete_other_devices)
                .bind(patch.can_update_other_devices),
        )
        .await
    }

    async fn record_seen(&self, id: DeviceId, sighting: Sighting) -> Result<(), StorageError> {
        let statement = Statement::new(D::statements().record_seen).bind(*id.as_uuid());
        let statement = Self::at(statement, sighting.at).bind(sighting.ip.map(|ip| ip.to_string()));
        Self::at(statement, sighting.stale_before)
            .execute(On::Pool(&self.pool))
            .await?;
        Ok(())
    }

    async fn extend_idle(
        &self,
        id: DeviceId,
        sighting: Sighting,
        extension: IdleExtension,
    ) -> Result<Option<Device>, StorageError> {
        let statement = Statement::new(&D::statements().extend_idle).bind(*id.as_uuid());
        let statement = Self::at(Self::at(statement, extension.idle_expires_at), sighting.at)
            .bind(sighting.ip.map(|ip| ip.to_string()));
        let statement = Self::at(
            Self::at(statement, sighting.stale_before),
            extension.deadline,
        );
        self.one(statement).await
    }

    async fn delete(&self, user: &UserId, id: DeviceId) -> Result<Option<Device>, StorageError> {
        self.one(
            Statement::new(&D::statements().delete_device)
                .bind(*id.as_uuid())
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
            Statement::new(&D::statements().delete_others)
                .bind(user.as_str())
                .bind(*keep.as_uuid()),
        )
        .await
    }

    async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.many(Statement::new(&D::statements().delete_all).bind(user.as_str()))
            .await
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<Vec<Device>, StorageError> {
        let statement = Statement::new(&D::statements().delete_expired_devices);
        let deleted = self
            .many(Self::at(statement, now).bind(i64::from(batch.get())))
            .await?;
        D::after_cleanup_batch(self).await;
        Ok(deleted)
    }
}
