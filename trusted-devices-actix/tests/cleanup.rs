//! Rule C through the adapter: `spawn_cleanup` runs cleanup on the framework's runtime and
//! stops on its handle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use trusted_devices_actix::spawn_cleanup;
use trusted_devices_core::chrono::TimeDelta;
use trusted_devices_core::memory::MemoryDeviceRepository;
use trusted_devices_core::{DeviceInfo, KeyRing, ManualClock, SigningKey, TrustedDevices, UserId};

#[actix_web::test]
async fn rule_c_spawn_cleanup_deletes_expired_devices_and_stops_on_its_handle() {
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let devices = Arc::new(MemoryDeviceRepository::new());
    let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap();
    let service = TrustedDevices::builder(KeyRing::new(key))
        .clock(clock.clone())
        .devices(devices.clone())
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

    // The first run starts at once and always finishes before a stop is honoured; the hour
    // until the next one is cut short by the stop.
    let task = spawn_cleanup(service.clone(), Duration::from_secs(3600));
    task.stop().await;

    let left = service.devices().list(&alice).await.unwrap();
    let ids: Vec<_> = left.iter().map(|device| device.id).collect();
    assert_eq!(ids, vec![fresh.device.id], "only the expired device went");
}
