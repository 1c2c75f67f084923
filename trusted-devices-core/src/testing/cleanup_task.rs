//! The check every runtime's periodic cleanup passes (the web adapters' `spawn_cleanup`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;

use crate::clock::ManualClock;
use crate::domain::{DeviceInfo, UserId};
use crate::memory::MemoryDeviceRepository;
use crate::service::TrustedDevices;
use crate::token::{KeyRing, SigningKey};

/// Rule C: `run_and_stop(service, interval)` starts a periodic cleanup of `service` every
/// `interval` and stops it, returning once stopped. The first run starts at once and must
/// finish before a stop is honoured, and the stop must cut short the hour until the next
/// run; an expired device must then be gone and a live one kept. Panics otherwise.
pub async fn periodic_cleanup_runs_and_stops<F, Fut>(run_and_stop: F)
where
    F: FnOnce(TrustedDevices, Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap();
    let service = TrustedDevices::builder(KeyRing::new(key))
        .clock(clock.clone())
        .devices(Arc::new(MemoryDeviceRepository::new()))
        .build();
    let alice = UserId::new("alice").unwrap();
    service
        .login(alice.clone(), DeviceInfo::new())
        .await
        .unwrap();
    clock.advance(TimeDelta::days(31));
    let fresh = service
        .login(alice.clone(), DeviceInfo::new())
        .await
        .unwrap();

    run_and_stop(service.clone(), Duration::from_secs(3600)).await;

    let left = service.devices().list(&alice).await.unwrap();
    let ids: Vec<_> = left.iter().map(|device| device.id).collect();
    assert_eq!(
        ids,
        vec![fresh.device.id],
        "rule C: the periodic cleanup removed exactly the expired device"
    );
}
