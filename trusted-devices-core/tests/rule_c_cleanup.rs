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

/// A clock that moves 5 ms each time it is read, so that every batch of a cleanup "takes"
/// 5 ms; timers that record what they are asked to sleep (and sleep not at all) or never
/// wake; and a service whose devices have all expired.
mod gentle {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use chrono::{DateTime, TimeDelta, Utc};
    use trusted_devices_core::{Clock, KeyRing, SigningKey, Sleep, Timer, TrustedDevices, UserId};

    #[derive(Debug)]
    pub(crate) struct TickingClock(pub(crate) Mutex<DateTime<Utc>>);

    impl Clock for TickingClock {
        fn now(&self) -> DateTime<Utc> {
            let mut at = self.0.lock().unwrap();
            let now = *at;
            *at += TimeDelta::milliseconds(5);
            now
        }
    }

    pub(crate) struct RecordingTimer(pub(crate) Mutex<Vec<Duration>>);

    impl Timer for RecordingTimer {
        fn sleep(&self, duration: Duration) -> Sleep {
            self.0.lock().unwrap().push(duration);
            Box::pin(async {})
        }
    }

    /// A timer whose sleeps never end: only a stop can end a rest.
    pub(crate) struct EndlessTimer;

    impl Timer for EndlessTimer {
        fn sleep(&self, _duration: Duration) -> Sleep {
            Box::pin(std::future::pending())
        }
    }

    /// A service on a ticking clock where `devices` users logged in once each, 31 days
    /// ago: every device has expired.
    pub(crate) async fn expired_backlog(devices: u32) -> TrustedDevices {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let clock = Arc::new(TickingClock(Mutex::new(start)));
        let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap();
        let service = TrustedDevices::builder(KeyRing::new(key))
            .clock(clock.clone())
            .build();
        for user in 0..devices {
            let user = UserId::new(format!("user-{user}")).unwrap();
            service
                .login(user, trusted_devices_core::DeviceInfo::new())
                .await
                .unwrap();
        }
        *clock.0.lock().unwrap() += TimeDelta::days(31);
        service
    }
}

#[tokio::test]
async fn rule_c_cleanup_gently_rests_after_each_full_batch_nine_times_as_long_as_it_took() {
    use std::sync::Mutex;
    use trusted_devices_core::CLEANUP_REST_FACTOR;

    let service = gentle::expired_backlog(5).await;
    let timer = gentle::RecordingTimer(Mutex::new(Vec::new()));
    let batch = NonZeroU32::new(2).unwrap();
    let report = service
        .cleanup_gently(service.now(), batch, &timer)
        .await
        .unwrap();
    assert_eq!(report.devices, 5);
    // Batches of 2, 2 and 1: a rest after each of the two full ones, nine times as long as
    // the clock moved while it ran. Token batches came back short, so they rest not at all.
    assert_eq!(CLEANUP_REST_FACTOR, 9);
    let rests = timer.0.lock().unwrap().clone();
    assert_eq!(rests, vec![Duration::from_millis(45); 2]);
}

#[tokio::test]
async fn rule_c_run_cleanup_stops_at_the_next_rest_not_after_the_backlog() {
    use trusted_devices_core::CLEANUP_BATCH;

    let backlog = 2 * CLEANUP_BATCH.get() + 10;
    let service = gentle::expired_backlog(backlog).await;
    // Stopped from the start: the first batch runs whole, and the rest after it (which
    // would never end) ends the run instead.
    let stopped = service.run_cleanup(Duration::from_secs(3600), &gentle::EndlessTimer, async {});
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("rule C: a stopped cleanup kept working through its backlog");
    let rest = service.cleanup(service.now(), CLEANUP_BATCH).await.unwrap();
    assert_eq!(
        rest.devices,
        u64::from(backlog - CLEANUP_BATCH.get()),
        "rule C: a stopped cleanup ran more (or less) than the batch in progress"
    );
}
