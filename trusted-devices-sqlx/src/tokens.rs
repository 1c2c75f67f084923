//! Rule R's token store for any [`Dialect`]: what both databases do alike. The rotation's
//! compare-and-swap and the revocation of many devices are the dialect's own.

use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Transaction;
use trusted_devices_core::{
    DeviceId, RefreshRecord, RefreshTokenHash, RotateOutcome, Rotation, StorageError, TokenStore,
};

use crate::SqlStore;
use crate::dialect::Dialect;
use crate::driver::{On, RowOf, Statement};
use crate::row::TokenRow;
use crate::store::instant;

impl<D: Dialect> SqlStore<D> {
    /// The stored record of `hash`, read in `tx` or from the pool.
    pub(crate) async fn stored_token(
        &self,
        hash: &RefreshTokenHash,
        tx: Option<&mut Transaction<'static, D::Db>>,
    ) -> Result<Option<RefreshRecord>, StorageError> {
        let on = match tx {
            Some(tx) => On::Transaction(tx),
            None => On::Pool(&self.pool),
        };
        Statement::<D>::new(&D::statements().select_token)
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(on)
            .await?
            .as_ref()
            .map(record::<D>)
            .transpose()
    }

    /// Inserts a token record, in `tx` or on the pool.
    pub(crate) async fn insert_token(
        &self,
        record: &RefreshRecord,
        tx: Option<&mut Transaction<'static, D::Db>>,
    ) -> Result<(), StorageError> {
        let on = match tx {
            Some(tx) => On::Transaction(tx),
            None => On::Pool(&self.pool),
        };
        let statement = Statement::new(D::statements().insert_token)
            .bind(record.hash.as_bytes().as_slice())
            .bind(*record.device_id.as_uuid())
            .bind(record.user_id.as_str());
        Self::at(Self::at(statement, record.issued_at), record.expires_at)
            .execute(on)
            .await?;
        Ok(())
    }
}

fn record<D: Dialect>(row: &RowOf<D>) -> Result<RefreshRecord, StorageError> {
    TokenRow {
        hash: D::read(row, "hash")?,
        device_id: D::read(row, "device_id")?,
        user_id: D::read(row, "user_id")?,
        issued_at: instant::<D>(row, "issued_at")?,
        expires_at: instant::<D>(row, "expires_at")?,
        rotated_at: D::read_time(row, "rotated_at")?,
        successor_hash: D::read(row, "successor_hash")?,
        sealed_successor: D::read(row, "sealed_successor")?,
    }
    .into_record()
}

#[async_trait]
impl<D: Dialect> TokenStore for SqlStore<D> {
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
        self.insert_token(&record, None).await
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        D::rotate_token(self, rotation).await
    }

    async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        D::revoke_tokens_of(self, devices).await
    }

    async fn forget_sealed(
        &self,
        consumed_before: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let statement = Statement::new(&D::statements().forget_sealed);
        Self::at(statement, consumed_before)
            .bind(i64::from(batch.get()))
            .execute(On::Pool(&self.pool))
            .await
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let statement = Statement::new(&D::statements().delete_expired_tokens);
        let deleted = Self::at(statement, now)
            .bind(i64::from(batch.get()))
            .execute(On::Pool(&self.pool))
            .await?;
        D::after_cleanup_batch(self).await;
        Ok(deleted)
    }
}
