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
use crate::store::{RedisStore, index_changed};

/// How long Redis keeps a seal: the reuse grace, and a second more so that a replay at the
/// very end of the grace, judged by the application's clock, is not refused for a Redis
/// clock a little ahead.
fn seal_life_ms(rotation: &Rotation) -> i64 {
    const CLOCK_MARGIN_MS: i64 = 1_000;
    rotation
        .grace
        .num_milliseconds()
        .saturating_add(CLOCK_MARGIN_MS)
}

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

    /// Deletes every token of `device`, or only the one named if it has expired by `now`;
    /// answers the hashes (hex) deleted. Every token is declared from a read of the
    /// device's set.
    async fn remove_tokens(
        &self,
        device: DeviceId,
        one: Option<(&str, DateTime<Utc>)>,
    ) -> Result<u64, StorageError> {
        let prefix = self.keys.token_prefix(device);
        let removed: Vec<String> = self
            .with_declared_keys(|| async {
                let mut connection = self.connection.clone();
                let mut invocation = REMOVE_TOKENS.prepare_invoke();
                invocation.key(self.keys.token_set(device));
                match one {
                    Some((hash_hex, _)) => {
                        invocation.key(format!("{prefix}{hash_hex}"));
                    }
                    None => {
                        let hashes: Vec<String> = connection
                            .smembers(self.keys.token_set(device))
                            .await
                            .map_err(storage_error)?;
                        for hash_hex in hashes {
                            invocation.key(format!("{prefix}{hash_hex}"));
                        }
                    }
                }
                invocation.arg(&prefix);
                if let Some((hash_hex, now)) = one {
                    invocation.arg(hash_hex).arg(micros(now));
                }
                let mut answer: Vec<Value> = invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(storage_error)?;
                if index_changed(&answer) {
                    return Ok(None);
                }
                let hashes = answer.split_off(1.min(answer.len()));
                redis::from_redis_value(Value::Array(hashes))
                    .map(Some)
                    .map_err(|error| StorageError::corrupt(format!("token hashes: {error}")))
            })
            .await?;
        let mut connection = self.connection.clone();
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
            .key(self.keys.seal(rotation.device_id, &rotation.presented))
            .key(self.keys.seal_index(rotation.device_id))
            .arg(micros(rotation.now))
            .arg(successor.hash.to_hex())
            .arg(to_hex(rotation.sealed_successor.as_bytes()))
            .arg(self.expire_at(successor.expires_at))
            .arg(seal_life_ms(&rotation))
            .arg(micros(rotation.forget_sealed_before()));
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
        let seal: Option<String> = match answer.next() {
            Some(value) => redis::from_redis_value(value)
                .map_err(|error| StorageError::corrupt(format!("token seal: {error}")))?,
            None => None,
        };
        let stored = if flat.is_empty() {
            None
        } else {
            Some(record::token(rotation.presented, flat, seal.as_deref())?)
        };
        rotation.unconsumed(stored.as_ref())
    }

    /// Seals live in keys of their own that Redis expires once the grace has passed
    /// (the grace and a second), so there is nothing left for cleanup to forget.
    async fn forget_sealed(
        &self,
        _consumed_before: DateTime<Utc>,
        _batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        Ok(0)
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
