//! Rule E: typed events for every change, and a failing hook never fails the request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::TimeDelta;
use common::{Fixture, RecordingHook};
use trusted_devices_core::{
    BoxError, DeviceInfo, Event, Eviction, LoginRejection, Policy, RevokeReason, TrustedDevices,
    UserId,
};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// `new_ip` and `new_browser` of the last `DeviceCreated` (rule G has every signal).
fn created_flags(events: &[Event]) -> (bool, bool) {
    match events.last() {
        Some(Event::DeviceCreated { signals, .. }) => (signals.new_ip, signals.new_browser),
        other => panic!("expected DeviceCreated, got {other:?}"),
    }
}

#[tokio::test]
async fn rule_e_device_created_carries_rule_g_signals() {
    let f = Fixture::defaults();
    let home = DeviceInfo::new()
        .user_agent(UA)
        .ip("203.0.113.7".parse().unwrap());
    f.login_with("alice", home.clone()).await;
    assert_eq!(
        created_flags(&f.hook.take()),
        (true, true),
        "a first device is new on both counts"
    );
    f.login_with("alice", home.clone()).await;
    assert_eq!(created_flags(&f.hook.take()), (false, false));
    f.login_with("alice", home.clone().ip("198.51.100.1".parse().unwrap()))
        .await;
    assert_eq!(created_flags(&f.hook.take()), (true, false));
    f.login_with("alice", home.user_agent("curl/8.0")).await;
    assert_eq!(created_flags(&f.hook.take()), (false, true));
}

async fn revoked_reasons(f: &Fixture) -> Vec<RevokeReason> {
    f.hook
        .take()
        .into_iter()
        .filter_map(|event| match event {
            Event::DeviceRevoked { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn rule_e_device_revoked_carries_each_reason() {
    let f = Fixture::new(Policy::builder().delete_delay(Duration::ZERO));
    let a = f.login("alice").await;
    let b = f.login("alice").await;
    f.hook.take();
    let acting = f.acting(&a).await;
    f.service.delete(&acting, b.device.id).await.unwrap();
    assert_eq!(
        revoked_reasons(&f).await,
        vec![RevokeReason::RevokedBy(a.device.id)]
    );
    f.service.logout(&acting).await.unwrap();
    assert_eq!(revoked_reasons(&f).await, vec![RevokeReason::Logout]);

    let f = Fixture::new(
        Policy::builder()
            .max_devices(Some(1))
            .eviction(Eviction::EvictOldest),
    );
    f.login("alice").await;
    f.login("alice").await;
    assert_eq!(revoked_reasons(&f).await, vec![RevokeReason::Evicted]);

    let f = Fixture::new(Policy::builder().single_login(true));
    f.login("alice").await;
    f.login("alice").await;
    assert_eq!(revoked_reasons(&f).await, vec![RevokeReason::SingleLogin]);

    let f = Fixture::defaults();
    let login = f.login("alice").await;
    f.advance(TimeDelta::days(31));
    f.service
        .cleanup(f.now(), NonZeroU32::new(10).unwrap())
        .await
        .unwrap();
    assert_eq!(revoked_reasons(&f).await, vec![RevokeReason::Expired]);
    assert!(
        f.service
            .refresh(login.tokens.refresh_token.expose(), None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn rule_e_login_rejected_is_reported() {
    let f = Fixture::new(Policy::builder().max_devices(Some(1)));
    f.login("alice").await;
    f.hook.take();
    assert!(
        f.service
            .login(UserId::new("alice").unwrap(), DeviceInfo::new())
            .await
            .is_err()
    );
    let events = f.hook.take();
    assert!(matches!(
        events.as_slice(),
        [Event::LoginRejected { reason: LoginRejection::TooManyDevices, user_id }] if user_id.as_str() == "alice"
    ));
}

static REPORTED: AtomicUsize = AtomicUsize::new(0);

fn count_failure(_event: &Event, _error: &BoxError) {
    REPORTED.fetch_add(1, Ordering::SeqCst);
}

#[tokio::test]
async fn rule_e_a_failing_hook_is_reported_and_never_fails_the_request() {
    let hook = Arc::new(RecordingHook {
        fail: true,
        ..RecordingHook::default()
    });
    let service = TrustedDevices::builder(common::keys())
        .hook(hook.clone())
        .on_hook_error(count_failure)
        .build();
    let login = service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await;
    assert!(login.is_ok(), "a failing hook failed the login");
    let acting = service
        .authenticate(&login.unwrap().tokens.access_token, None)
        .await
        .unwrap();
    assert!(
        service.logout(&acting).await.is_ok(),
        "a failing hook failed the logout"
    );
    assert_eq!(hook.take().len(), 2);
    assert_eq!(
        REPORTED.load(Ordering::SeqCst),
        2,
        "each failure is reported"
    );
}

#[tokio::test]
async fn rule_e_device_updated_carries_before_after_and_the_acting_device() {
    let f = Fixture::new(Policy::builder().update_delay(Duration::ZERO));
    let a = f.login("alice").await;
    let b = f.login("alice").await;
    f.hook.take();
    let acting = f.acting(&a).await;
    let patch = trusted_devices_core::DevicePatch {
        name: Some(trusted_devices_core::DeviceName::new("Kitchen tablet").unwrap()),
        ..Default::default()
    };
    f.service
        .update(&acting, b.device.id, &patch)
        .await
        .unwrap();
    let events = f.hook.take();
    match events.as_slice() {
        [Event::DeviceUpdated { before, device, by }] => {
            assert_eq!(before.name, b.device.name);
            assert_eq!(device.name.as_str(), "Kitchen tablet");
            assert_eq!(*by, a.device.id);
        }
        other => panic!("expected one DeviceUpdated, got {other:?}"),
    }
}
