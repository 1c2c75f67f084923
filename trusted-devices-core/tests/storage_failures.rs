//! Storage failures: a completed revocation is never reported as failed, bookkeeping writes
//! never refuse a request, and an unreachable store is `storage_unavailable` (503).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use trusted_devices_core::http::{ApiRequest, DeviceApi, Endpoint};
use trusted_devices_core::memory::{MemoryDeviceRepository, MemoryTokenStore};
use trusted_devices_core::{
    CreateOutcome, Device, DeviceId, DeviceInfo, DeviceLimit, DevicePatch, DeviceRepository, Error,
    IdleExtension, RefreshRecord, RotateOutcome, Rotation, Sighting, StorageError, TokenStore,
    TrustedDevices, UserId,
};

fn down() -> StorageError {
    StorageError::unavailable(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "down",
    ))
}

/// A token store whose `revoke_devices` fails.
#[derive(Default)]
struct NoRevocation(MemoryTokenStore);

#[async_trait]
impl TokenStore for NoRevocation {
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
        self.0.insert(record).await
    }
    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
        self.0.rotate(rotation).await
    }
    async fn revoke_devices(&self, _devices: &[DeviceId]) -> Result<u64, StorageError> {
        Err(down())
    }
    async fn forget_sealed(
        &self,
        consumed_before: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        self.0.forget_sealed(consumed_before, batch).await
    }
    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        self.0.delete_expired(now, batch).await
    }
}

/// A device repository that can be switched off, and whose `record_seen` always fails.
#[derive(Default)]
struct Switchable {
    inner: MemoryDeviceRepository,
    off: AtomicBool,
}

impl Switchable {
    fn check(&self) -> Result<(), StorageError> {
        if self.off.load(Ordering::SeqCst) {
            Err(down())
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl DeviceRepository for Switchable {
    async fn create(
        &self,
        device: Device,
        limit: DeviceLimit,
    ) -> Result<CreateOutcome, StorageError> {
        self.check()?;
        self.inner.create(device, limit).await
    }
    async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError> {
        self.check()?;
        self.inner.get(id).await
    }
    async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.check()?;
        self.inner.list(user).await
    }
    async fn update(
        &self,
        user: &UserId,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Option<Device>, StorageError> {
        self.check()?;
        self.inner.update(user, id, patch).await
    }
    async fn record_seen(&self, _id: DeviceId, _sighting: Sighting) -> Result<(), StorageError> {
        Err(down())
    }
    async fn extend_idle(
        &self,
        id: DeviceId,
        s: Sighting,
        extension: IdleExtension,
    ) -> Result<Option<Device>, StorageError> {
        self.check()?;
        self.inner.extend_idle(id, s, extension).await
    }
    async fn delete(&self, user: &UserId, id: DeviceId) -> Result<Option<Device>, StorageError> {
        self.check()?;
        self.inner.delete(user, id).await
    }
    async fn delete_others(
        &self,
        user: &UserId,
        keep: DeviceId,
    ) -> Result<Vec<Device>, StorageError> {
        self.check()?;
        self.inner.delete_others(user, keep).await
    }
    async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
        self.check()?;
        self.inner.delete_all(user).await
    }
    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<Vec<Device>, StorageError> {
        self.check()?;
        self.inner.delete_expired(now, batch).await
    }
}

#[tokio::test]
async fn a_failed_token_cleanup_does_not_fail_a_completed_logout() {
    let service = TrustedDevices::builder(common::keys())
        .tokens(Arc::new(NoRevocation::default()))
        .build();
    let login = service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await
        .unwrap();
    let acting = service
        .authenticate(&login.tokens.access_token, None)
        .await
        .unwrap();
    service
        .logout(&acting)
        .await
        .expect("the device is deleted: the logout is done");
    let refresh = service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await;
    assert!(
        matches!(refresh, Err(Error::RefreshTokenInvalid)),
        "the left-over token is refused"
    );
    let access = service.authenticate(&login.tokens.access_token, None).await;
    assert!(matches!(access, Err(Error::DeviceRevoked)));
}

#[tokio::test]
async fn a_failed_last_seen_write_does_not_refuse_the_request() {
    let devices = Arc::new(Switchable::default());
    let service = TrustedDevices::builder(common::keys())
        .devices(devices.clone())
        .build();
    let login = service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await
        .unwrap();
    let policy = trusted_devices_core::Policy::builder().touch_interval(std::time::Duration::ZERO);
    let eager = TrustedDevices::builder(common::keys())
        .devices(devices)
        .policy(policy.build().unwrap())
        .build();
    let acting = eager.authenticate(&login.tokens.access_token, None).await;
    assert!(acting.is_ok(), "{acting:?}");
}

#[tokio::test]
async fn an_unreachable_repository_is_storage_unavailable_not_a_panic() {
    let devices = Arc::new(Switchable::default());
    let service = TrustedDevices::builder(common::keys())
        .devices(devices.clone())
        .build();
    let login = service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await
        .unwrap();
    devices.off.store(true, Ordering::SeqCst);
    let bearer = format!("Bearer {}", login.tokens.access_token);
    for endpoint in Endpoint::ALL {
        let body = match endpoint {
            Endpoint::Refresh | Endpoint::SignOut => format!(
                r#"{{"refresh_token":"{}"}}"#,
                login.tokens.refresh_token.expose()
            ),
            Endpoint::Verify => format!(r#"{{"token":"{}"}}"#, login.tokens.access_token),
            _ => "{}".to_owned(),
        };
        let id = login.device.id.to_string();
        let request = ApiRequest {
            authorization: Some(bearer.as_bytes()),
            device_id: Some(&id),
            body: body.as_bytes(),
            client_ip: None,
            ..ApiRequest::default()
        };
        let response = DeviceApi::new(service.clone())
            .handle(endpoint, request)
            .await;
        assert_eq!(response.status, 503, "{endpoint:?}");
        let problem: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(problem["code"], "storage_unavailable", "{endpoint:?}");
    }
    let login = service
        .login(UserId::new("bob").unwrap(), DeviceInfo::new())
        .await;
    assert!(matches!(login, Err(Error::StorageUnavailable(_))));
}
