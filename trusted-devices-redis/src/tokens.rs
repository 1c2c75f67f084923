use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionLike;
use redis::{AsyncCommands, Value};
use trusted_devices_core::{
    DeviceId, RefreshRecord, RotateOutcome, Rotation, StorageError, TokenStore,
};

use crate::error::storage_error;
use crate::record::{self, micros, to_hex, token_fields};
use crate::scripts::{INSERT_TOKEN, REMOVE_TOKENS, ROTATE_TOKEN};
use crate::store::RedisStore;

fn expiry_member(device: DeviceId, hash_hex: &str) -> String {
    format!("{device}:{hash_hex}")
}

impl<C> RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn index_token(&self, record: &RefreshRecord) -> Result<(), StorageError> {
        self.index_member(
            &self.keys.token_expiries(),
            &expiry_member(record.device_id, &record.hash.to_hex()),
            record.expires_at.timestamp_micros(),
            self.expire_at(record.expires_at),
        )
        .await
    }

    async fn remove_tokens(
        &self,
        device: DeviceId,
        one: Option<(&str, DateTime<Utc>)>,
    ) -> Result<u64, StorageError> {
        let mut connection = self.connection.clone();
        let mut invocation = REMOVE_TOKENS.prepare_invoke();
        invocation
            .key(self.keys.token_set(device))
            .arg(self.keys.token_prefix(device));
        if let Some((hash_hex, now)) = one {
            invocation.arg(hash_hex).arg(micros(now));
        }
        let removed: Vec<String> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(storage_error)?;
        for hash_hex in &removed {
            connection
                .zrem::<_, _, ()>(self.keys.token_expiries(), expiry_member(device, hash_hex))
                .await
                .map_err(storage_error)?;
        }
        Ok(u64::try_from(removed.len()).unwrap_or(u64::MAX))
    }
}

#[async_trait]
impl<C> TokenStore for RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
        let mut connection = self.connection.clone();
        let mut invocation = INSERT_TOKEN.prepare_invoke();
        invocation
            .key(self.keys.token(record.device_id, &record.hash))
            .key(self.keys.token_set(record.device_id))
            .arg(record.hash.to_hex())
            .arg(self.expire_at(record.expires_at));
        for field in token_fields(&record) {
            invocation.arg(field);
        }
        invocation
            .invoke_async::<()>(&mut connection)
            .await
            .map_err(storage_error)?;
        self.index_token(&record).await
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        let successor = &rotation.successor;
        let mut connection = self.connection.clone();
        let mut invocation = ROTATE_TOKEN.prepare_invoke();
        invocation
            .key(self.keys.token(rotation.device_id, &rotation.presented))
            .key(self.keys.token(rotation.device_id, &successor.hash))
            .key(self.keys.token_set(rotation.device_id))
            .arg(micros(rotation.now))
            .arg(successor.hash.to_hex())
            .arg(to_hex(rotation.sealed_successor.as_bytes()))
            .arg(self.expire_at(successor.expires_at));
        for field in token_fields(successor) {
            invocation.arg(field);
        }
        let answer: Vec<Value> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(storage_error)?;
        let mut answer = answer.into_iter();
        if matches!(answer.next(), Some(Value::Int(1))) {
            self.index_token(successor).await?;
            return Ok(RotateOutcome::Rotated);
        }
        // Not consumed: rule R decides from what is stored (nothing, expired, rotated).
        let flat: Vec<String> = match answer.next() {
            Some(value) => redis::from_redis_value(value)
                .map_err(|error| StorageError::corrupt(format!("token hash: {error}")))?,
            None => Vec::new(),
        };
        let stored = if flat.is_empty() {
            None
        } else {
            Some(record::token(rotation.presented, flat)?)
        };
        rotation.unconsumed(stored.as_ref())
    }

    async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
        let mut removed = 0;
        for device in devices {
            removed += self.remove_tokens(*device, None).await?;
        }
        Ok(removed)
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let mut connection = self.connection.clone();
        let candidates: Vec<String> = connection
            .zrangebyscore_limit(
                self.keys.token_expiries(),
                "-inf",
                now.timestamp_micros(),
                0,
                isize::try_from(batch.get()).unwrap_or(isize::MAX),
            )
            .await
            .map_err(storage_error)?;
        let mut removed = 0;
        for candidate in candidates {
            if let Some((device, hash_hex)) = candidate.split_once(':')
                && let Ok(device) = device.parse::<DeviceId>()
            {
                removed += self.remove_tokens(device, Some((hash_hex, now))).await?;
            }
            connection
                .zrem::<_, _, ()>(self.keys.token_expiries(), &candidate)
                .await
                .map_err(storage_error)?;
        }
        Ok(removed)
    }
}
