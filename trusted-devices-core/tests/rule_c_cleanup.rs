//! Rule C: cleanup deletes expired devices in batches and counts them; nothing else expires
//! silently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::TimeDelta;
use common::Fixture;
use trusted_devices_core::{Event, Policy, RevokeReason};

#[tokio::test]
async fn rule_c_cleanup_deletes_idle_and_absolute_expiries_in_batches() {
    let f = Fixture::new(
        Policy::builder()
            .refresh_idle_timeout(Duration::from_secs(3600))
            .session_max_lifetime(Some(Duration::from_secs(7200))),
    );
    let idle: Vec<_> = [
        f.login("alice").await,
        f.login("bob").await,
        f.login("carol").await,
    ]
    .into();
    f.advance(TimeDelta::minutes(50));
    let kept_alive = f.login("dave").await;
    f.advance(TimeDelta::minutes(10)); // the first three reach their idle deadline
    let refreshed = f
        .service
        .refresh(kept_alive.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    f.hook.take();

    let report = f
        .service
        .cleanup(f.now(), NonZeroU32::new(2).unwrap())
        .await
        .unwrap();
    assert_eq!(report.devices, 3);
    for login in &idle {
        assert!(
            f.service
                .devices()
                .get(login.device.id)
                .await
                .unwrap()
                .is_none()
        );
    }
    let events = f.hook.take();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| matches!(
        e,
        Event::DeviceRevoked {
            reason: RevokeReason::Expired,
            ..
        }
    )));

    // Refreshing keeps the idle deadline ahead, but not the absolute one. Dave logged in
    // at minute 50, so his session ends at minute 170 whatever he does.
    f.advance(TimeDelta::minutes(59)); // minute 119
    let refreshed = f
        .service
        .refresh(refreshed.refresh_token.expose(), None)
        .await
        .unwrap();
    f.advance(TimeDelta::minutes(50)); // minute 169: idle deadline 179, absolute 170
    let batch = NonZeroU32::new(2).unwrap();
    assert_eq!(f.service.cleanup(f.now(), batch).await.unwrap().devices, 0);
    assert!(
        f.service
            .refresh(refreshed.refresh_token.expose(), None)
            .await
            .is_ok()
    );
    f.advance(TimeDelta::minutes(1)); // minute 170: the absolute deadline
    assert_eq!(f.service.cleanup(f.now(), batch).await.unwrap().devices, 1);
    assert!(f.devices.is_empty());
    assert!(f.tokens.is_empty(), "token records go with their devices");
}

#[tokio::test]
async fn rule_c_nothing_else_expires_silently() {
    let f = Fixture::new(Policy::builder().refresh_idle_timeout(Duration::from_secs(60)));
    let login = f.login("alice").await;
    f.advance(TimeDelta::days(10));
    assert!(
        f.service
            .authenticate(&login.tokens.access_token, None)
            .await
            .is_err()
    );
    assert!(
        f.service
            .refresh(login.tokens.refresh_token.expose(), None)
            .await
            .is_err()
    );
    assert_eq!(
        f.devices.len(),
        1,
        "an expired device stays stored until cleanup"
    );
    let report = f
        .service
        .cleanup(f.now(), NonZeroU32::new(100).unwrap())
        .await
        .unwrap();
    assert_eq!(report.devices, 1);
    assert_eq!(report.tokens, 0, "the device's token went with the device");
}
