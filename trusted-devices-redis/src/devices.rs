use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionLike;
use redis::{AsyncCommands, Value};
use trusted_devices_core::{
    Admission, CreateOutcome, Device, DeviceId, DeviceLimit, DevicePatch, DeviceRepository,
    EvictionOrder, IdleExtension, Sighting, StorageError, UserId,
};

use crate::error::storage_error;
use crate::keys::{user_from_tag, user_tag};
use crate::record::{self, device_fields, micros};
use crate::scripts::{CREATE_DEVICE, REMOVE_DEVICES, SEE_DEVICE, UPDATE_DEVICE};
use crate::store::{RedisStore, index_changed};

fn hashes(values: Vec<Value>) -> Result<Vec<Device>, StorageError> {
    values
        .into_iter()
        .map(|value| {
            let flat: Vec<String> = redis::from_redis_value(value)
                .map_err(|error| StorageError::corrupt(format!("device hash: {error}")))?;
            record::device(flat)
        })
        .collect()
}

fn one_hash(flat: Vec<String>) -> Result<Option<Device>, StorageError> {
    if flat.is_empty() {
        return Ok(None);
    }
    record::device(flat).map(Some)
}

fn deadline_member(user: &UserId, id: DeviceId) -> String {
    format!("{}:{id}", user_tag(user))
}

impl<C> RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// The user a device belongs to, from its owner key.
    async fn owner(&self, id: DeviceId) -> Result<Option<UserId>, StorageError> {
        let mut connection = self.connection.clone();
        let owner: Option<String> = connection
            .get(self.keys.owner(id))
            .await
            .map_err(storage_error)?;
        owner
            .map(|user| UserId::new(user).map_err(|e| StorageError::corrupt(format!("owner: {e}"))))
            .transpose()
    }

    /// Indexes a live device for cleanup and points its id at its owner.
    async fn index(&self, device: &Device) -> Result<(), StorageError> {
        let mut connection = self.connection.clone();
        let expire_at = self.expire_at(device.deadline());
        redis::cmd("SET")
            .arg(self.keys.owner(device.id))
            .arg(device.user_id.as_str())
            .arg("PXAT")
            .arg(expire_at)
            .query_async::<()>(&mut connection)
            .await
            .map_err(storage_error)?;
        self.index_member(
            &self.keys.device_deadlines(),
            &deadline_member(&device.user_id, device.id),
            device.deadline().timestamp_micros(),
            expire_at,
        )
        .await
    }

    /// Drops the owner key and index entry of devices already deleted.
    async fn unindex(&self, devices: &[Device]) -> Result<(), StorageError> {
        let mut connection = self.connection.clone();
        for device in devices {
            connection
                .del::<_, ()>(self.keys.owner(device.id))
                .await
                .map_err(storage_error)?;
            connection
                .zrem::<_, _, ()>(
                    self.keys.device_deadlines(),
                    deadline_member(&device.user_id, device.id),
                )
                .await
                .map_err(storage_error)?;
        }
        Ok(())
    }

    /// The hash keys of every device the user's created-at index names now, for a script
    /// to declare.
    async fn device_keys(&self, user: &UserId) -> Result<Vec<String>, StorageError> {
        let mut connection = self.connection.clone();
        let ids: Vec<String> = connection
            .zrange(self.keys.created(user), 0, -1)
            .await
            .map_err(storage_error)?;
        let prefix = self.keys.device_prefix(user);
        Ok(ids.into_iter().map(|id| format!("{prefix}{id}")).collect())
    }

    /// Runs the removal script for one user: one device (`one`, `expired`), or every other
    /// or every device (`others`, `all`), declared from a read of the user's index.
    async fn remove(
        &self,
        user: &UserId,
        mode: &str,
        id: Option<DeviceId>,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<Device>, StorageError> {
        let devices = self
            .with_declared_keys(|| async {
                let declared = match id {
                    Some(id) if matches!(mode, "one" | "expired") => {
                        vec![self.keys.device(user, id)]
                    }
                    _ => self.device_keys(user).await?,
                };
                let mut connection = self.connection.clone();
                let mut invocation = REMOVE_DEVICES.prepare_invoke();
                invocation
                    .key(self.keys.created(user))
                    .key(self.keys.seen(user));
                for key in declared {
                    invocation.key(key);
                }
                invocation
                    .arg(self.keys.device_prefix(user))
                    .arg(mode)
                    .arg(id.map(|id| id.to_string()).unwrap_or_default())
                    .arg(now.map(micros).unwrap_or_default());
                let mut answer: Vec<Value> = invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(storage_error)?;
                if index_changed(&answer) {
                    return Ok(None);
                }
                hashes(answer.split_off(1.min(answer.len()))).map(Some)
            })
            .await?;
        self.unindex(&devices).await?;
        Ok(devices)
    }

    /// Runs the sighting script; `extension` also writes the core's new deadlines and the
    /// key expiry that follows from them.
    async fn see(
        &self,
        id: DeviceId,
        sighting: Sighting,
        extension: Option<IdleExtension>,
    ) -> Result<Option<Device>, StorageError> {
        let Some(user) = self.owner(id).await? else {
            return Ok(None);
        };
        let mut connection = self.connection.clone();
        let mut invocation = SEE_DEVICE.prepare_invoke();
        invocation
            .key(self.keys.device(&user, id))
            .key(self.keys.seen(&user))
            .key(self.keys.created(&user))
            .arg(id.to_string())
            .arg(micros(sighting.at))
            .arg(sighting.ip.map(|ip| ip.to_string()).unwrap_or_default())
            .arg(micros(sighting.stale_before))
            .arg(
                extension
                    .map(|e| micros(e.idle_expires_at))
                    .unwrap_or_default(),
            )
            .arg(extension.map(|e| micros(e.deadline)).unwrap_or_default())
            .arg(
                extension
                    .map(|e| self.expire_at(e.deadline))
                    .unwrap_or_default(),
            );
        let flat: Vec<String> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(storage_error)?;
        let device = one_hash(flat)?;
        if let (Some(device), Some(_)) = (&device, extension) {
            self.index(device).await?;
        }
        Ok(device)
    }
}

/// What `create_device.lua` does, as the core decides it: the script alone can count the
/// user's devices atomically, so it is given `DeviceLimit::admission`'s answer for a user at
/// the limit (`admit` with no limit, `replace_all` under single login) and the limit, and it
/// only compares and counts (`held - max + 1` evicted, as `admission` does). The shared
/// table `testing::RULE_L_CASES` checks the two agree, through the conformance suite.
fn script_limit(limit: &DeviceLimit) -> (&'static str, u32) {
    let max = limit.max_devices.map_or(0, NonZeroU32::get);
    let at_limit = usize::try_from(max).unwrap_or(usize::MAX);
    let mode = match limit.admission(at_limit) {
        Admission::Admit => "admit",
        Admission::ReplaceAll => "replace_all",
        Admission::Reject => "reject",
        Admission::Evict {
            order: EvictionOrder::LeastRecentlyUsed,
            ..
        } => "lru",
        Admission::Evict {
            order: EvictionOrder::Oldest,
            ..
        } => "oldest",
    };
    (mode, max)
}

#[async_trait]
impl<C> DeviceRepository for RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn create(
        &self,
        device: Device,
        limit: DeviceLimit,
    ) -> Result<CreateOutcome, StorageError> {
        let user = &device.user_id;
        let (at_limit, max) = script_limit(&limit);
        let answer = self
            .with_declared_keys(|| async {
                let mut connection = self.connection.clone();
                let mut invocation = CREATE_DEVICE.prepare_invoke();
                invocation
                    .key(self.keys.created(user))
                    .key(self.keys.seen(user))
                    .key(self.keys.device(user, device.id));
                for key in self.device_keys(user).await? {
                    invocation.key(key);
                }
                invocation
                    .arg(device.id.to_string())
                    .arg(micros(device.created_at))
                    .arg(micros(device.last_seen_at))
                    .arg(at_limit)
                    .arg(max)
                    .arg(self.keys.device_prefix(user))
                    .arg(self.expire_at(device.deadline()));
                for field in device_fields(&device) {
                    invocation.arg(field);
                }
                let answer: Vec<Value> = invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(storage_error)?;
                Ok((!index_changed(&answer)).then_some(answer))
            })
            .await?;
        let mut answer = answer;
        if answer.is_empty() || matches!(answer.first(), Some(Value::Int(0))) {
            return Ok(CreateOutcome::LimitReached);
        }
        let displaced = hashes(answer.split_off(1))?;
        self.unindex(&displaced).await?;
        self.index(&device).await?;
        Ok(CreateOutcome::Created { displaced })
    }

    async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError> {
        let Some(user) = self.owner(id).await? else {
            return Ok(None);
        };
        let mut connection = self.connection.clone();
        let flat: Vec<String> = connection
            .hgetall(self.keys.device(&user, id))
            .await
            .map_err(storage_error)?;
        one_hash(flat)
    }

    async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        let mut connection = self.connection.clone();
        let ids: Vec<String> = connection
            .zrange(self.keys.created(user), 0, -1)
            .await
            .map_err(storage_error)?;
        let mut devices = Vec::with_capacity(ids.len());
        for id in ids {
            let key = format!("{}{id}", self.keys.device_prefix(user));
            let flat: Vec<String> = connection.hgetall(key).await.map_err(storage_error)?;
            devices.extend(one_hash(flat)?);
        }
        Ok(devices)
    }

    async fn update(
        &self,
        user: &UserId,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Option<Device>, StorageError> {
        let mut connection = self.connection.clone();
        let mut invocation = UPDATE_DEVICE.prepare_invoke();
        invocation.key(self.keys.device(user, id));
        if let Some(name) = &patch.name {
            invocation.arg("name").arg(name.as_str());
        }
        if let Some(flag) = patch.can_delete_other_devices {
            invocation.arg("can_delete").arg(u8::from(flag));
        }
        if let Some(flag) = patch.can_update_other_devices {
            invocation.arg("can_update").arg(u8::from(flag));
        }
        let flat: Vec<String> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(storage_error)?;
        one_hash(flat)
    }

    async fn record_seen(&self, id: DeviceId, sighting: Sighting) -> Result<(), StorageError> {
        self.see(id, sighting, None).await.map(|_| ())
    }

    async fn extend_idle(
        &self,
        id: DeviceId,
        sighting: Sighting,
        extension: IdleExtension,
    ) -> Result<Option<Device>, StorageError> {
        self.see(id, sighting, Some(extension)).await
    }

    async fn delete(&self, user: &UserId, id: DeviceId) -> Result<Option<Device>, StorageError> {
        Ok(self.remove(user, "one", Some(id), None).await?.pop())
    }

    async fn delete_others(
        &self,
        user: &UserId,
        keep: DeviceId,
    ) -> Result<Vec<Device>, StorageError> {
        self.remove(user, "others", Some(keep), None).await
    }

    async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.remove(user, "all", None, None).await
    }

    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<Vec<Device>, StorageError> {
        let wanted = usize::try_from(batch.get()).unwrap_or(usize::MAX);
        let mut expired = Vec::new();
        let mut connection = self.connection.clone();
        while expired.len() < wanted {
            let room = wanted - expired.len();
            let candidates: Vec<String> = connection
                .zrangebyscore_limit(
                    self.keys.device_deadlines(),
                    "-inf",
                    now.timestamp_micros(),
                    0,
                    isize::try_from(room).unwrap_or(isize::MAX),
                )
                .await
                .map_err(storage_error)?;
            if candidates.is_empty() {
                break;
            }
            for candidate in candidates {
                expired.extend(self.expire_candidate(&candidate, now).await?);
                // Handled: deleted now, already gone, or re-indexed by its real deadline.
                connection
                    .zrem::<_, _, ()>(self.keys.device_deadlines(), &candidate)
                    .await
                    .map_err(storage_error)?;
            }
        }
        Ok(expired)
    }
}

impl<C> RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Deletes the device an index entry names if its stored deadline has passed; a device
    /// whose deadline moved is indexed again under the right score.
    async fn expire_candidate(
        &self,
        candidate: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Device>, StorageError> {
        let parsed = candidate
            .split_once(':')
            .and_then(|(tag, id)| Some((user_from_tag(tag)?, id.parse::<DeviceId>().ok()?)));
        let Some((user, id)) = parsed else {
            return Ok(Vec::new());
        };
        let removed = self.remove(&user, "expired", Some(id), Some(now)).await?;
        if removed.is_empty()
            && let Some(device) = self.get(id).await?
        {
            self.index(&device).await?;
        }
        Ok(removed)
    }
}
