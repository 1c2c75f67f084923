//! The service's rules over real stores: revocation cascades, deadlines, refresh races.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;

use crate::clock::ManualClock;
use crate::domain::DeviceInfo;
use crate::error::Error;
use crate::policy::Policy;
use crate::service::TrustedDevices;
use crate::testing::fixtures::{base_time, expiry_base_time};
use crate::testing::{CONCURRENT_TASKS, Stores, join_all, pick, unique_user};
use crate::token::{KeyRing, SigningKey};

/// Runs every service-level check over `stores`.
pub async fn run_service_suite(stores: &Stores) {
    rule_t_revocation_cascades_to_every_token(stores).await;
    rule_r_idle_deadline_slides_and_absolute_does_not(stores).await;
    rule_r_concurrent_refreshes_converge_on_one_token(stores).await;
    rule_r_reuse_after_grace_revokes_the_device(stores).await;
    rule_c_cleanup_reports_expired_devices(stores).await;
}

fn service(
    stores: &Stores,
    index: usize,
    clock: &Arc<ManualClock>,
    policy: Policy,
) -> TrustedDevices {
    let key = SigningKey::new("conformance", &[7u8; 32]).unwrap();
    TrustedDevices::builder(KeyRing::new(key))
        .policy(policy)
        .devices(pick(&stores.devices, index))
        .tokens(pick(&stores.tokens, index))
        .clock(clock.clone())
        .build()
}

fn policy() -> Policy {
    Policy::builder()
        .refresh_idle_timeout(Duration::from_secs(3600))
        .session_max_lifetime(Some(Duration::from_secs(3 * 3600)))
        .delete_delay(Duration::ZERO)
        .build()
        .unwrap()
}

/// Rule T: revoking a device refuses its unexpired access token and its refresh token at once.
pub async fn rule_t_revocation_cascades_to_every_token(stores: &Stores) {
    let clock = Arc::new(ManualClock::new(base_time()));
    let service = service(stores, 0, &clock, policy());
    let user = unique_user("cascade");
    let login = service.login(user, DeviceInfo::new()).await.unwrap();
    let acting = service
        .authenticate(&login.tokens.access_token, None)
        .await
        .unwrap();
    service.logout(&acting).await.unwrap();
    let other_server = service_on(stores, 1, &clock);
    let access = other_server
        .authenticate(&login.tokens.access_token, None)
        .await;
    assert!(
        matches!(access, Err(Error::DeviceRevoked)),
        "rule T: revoked device's access token: {access:?}"
    );
    let refresh = other_server
        .refresh(login.tokens.refresh_token.expose(), None)
        .await;
    assert!(
        matches!(refresh, Err(Error::RefreshTokenInvalid)),
        "rule T: revoked device's refresh token: {refresh:?}"
    );
}

fn service_on(stores: &Stores, index: usize, clock: &Arc<ManualClock>) -> TrustedDevices {
    service(stores, index, clock, policy())
}

/// Rule R: each refresh moves the idle deadline (one hour here); the absolute one (three
/// hours) never moves; both are exact to the microsecond.
pub async fn rule_r_idle_deadline_slides_and_absolute_does_not(stores: &Stores) {
    let clock = Arc::new(ManualClock::new(base_time()));
    let service = service_on(stores, 0, &clock);
    let login = service
        .login(unique_user("deadlines"), DeviceInfo::new())
        .await
        .unwrap();
    let mut refresh_token = login.tokens.refresh_token;
    for _ in 0..2 {
        clock.advance(TimeDelta::hours(1) - TimeDelta::microseconds(1));
        let pair = service.refresh(refresh_token.expose(), None).await;
        refresh_token = pair
            .expect("rule R: refresh just before the idle deadline")
            .refresh_token;
    }
    // Idle deadline is now 1 h after the last refresh; the absolute one is 3 h after login.
    clock.advance(TimeDelta::hours(1));
    let idle = service.refresh(refresh_token.expose(), None).await;
    assert!(
        matches!(idle, Err(Error::RefreshTokenExpired)),
        "rule R: idle deadline reached: {idle:?}"
    );

    let clock = Arc::new(ManualClock::new(base_time()));
    let service = service_on(stores, 1, &clock);
    let login = service
        .login(unique_user("absolute"), DeviceInfo::new())
        .await
        .unwrap();
    let mut refresh_token = login.tokens.refresh_token;
    for _ in 0..5 {
        clock.advance(TimeDelta::minutes(35));
        refresh_token = service
            .refresh(refresh_token.expose(), None)
            .await
            .unwrap()
            .refresh_token;
    }
    // 175 min after login: the access token issued now is capped at the 180-min mark.
    let pair = service.refresh(refresh_token.expose(), None).await.unwrap();
    assert_eq!(
        pair.expires_in,
        5 * 60,
        "rule T: access tokens end with the session"
    );
    clock.advance(TimeDelta::minutes(5));
    let absolute = service.refresh(pair.refresh_token.expose(), None).await;
    assert!(
        matches!(absolute, Err(Error::RefreshTokenExpired)),
        "rule R: absolute deadline: {absolute:?}"
    );
    let access = service.authenticate(&pair.access_token, None).await;
    assert!(
        access.is_err(),
        "rule T: a session past its absolute deadline authenticates"
    );
}

/// Rule R: 50 concurrent refreshes of one token on several servers all get the same new
/// refresh token.
pub async fn rule_r_concurrent_refreshes_converge_on_one_token(stores: &Stores) {
    let clock = Arc::new(ManualClock::new(base_time()));
    let login = service_on(stores, 0, &clock)
        .login(unique_user("refresh-race"), DeviceInfo::new())
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(1));
    let token = login.tokens.refresh_token.expose().to_owned();
    let tasks = (0..CONCURRENT_TASKS)
        .map(|i| {
            let (service, token) = (service_on(stores, i, &clock), token.clone());
            tokio::spawn(async move { service.refresh(&token, None).await })
        })
        .collect();
    let pairs: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|p| p.unwrap())
        .collect();
    let first = pairs[0].refresh_token.expose();
    assert!(
        pairs
            .iter()
            .all(|pair| pair.refresh_token.expose() == first),
        "rule R: racing refreshes must converge on one successor"
    );
    let next = service_on(stores, 0, &clock).refresh(first, None).await;
    assert!(
        next.is_ok(),
        "rule R: the converged successor is live: {next:?}"
    );
}

/// Rule R: a consumed token presented after the grace is `refresh_token_reused` and
/// revokes the device with all its tokens.
pub async fn rule_r_reuse_after_grace_revokes_the_device(stores: &Stores) {
    let clock = Arc::new(ManualClock::new(base_time()));
    let service = service_on(stores, 0, &clock);
    let login = service
        .login(unique_user("reuse"), DeviceInfo::new())
        .await
        .unwrap();
    let successor = service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    clock.advance(TimeDelta::seconds(10));
    let replay = service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    assert_eq!(
        replay.refresh_token, successor.refresh_token,
        "rule R: replay at the grace's end"
    );
    clock.advance(TimeDelta::microseconds(1));
    let reuse = service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await;
    assert!(
        matches!(reuse, Err(Error::RefreshTokenReused)),
        "rule R: reuse after grace: {reuse:?}"
    );
    let access = service.authenticate(&successor.access_token, None).await;
    assert!(
        matches!(access, Err(Error::DeviceRevoked)),
        "rule R: reuse revokes the device"
    );
    let refresh = service
        .refresh(successor.refresh_token.expose(), None)
        .await;
    assert!(refresh.is_err(), "rule R: reuse revokes the successor too");
}

/// Rule C: the service's cleanup removes expired devices and their tokens, and counts them.
pub async fn rule_c_cleanup_reports_expired_devices(stores: &Stores) {
    let clock = Arc::new(ManualClock::new(expiry_base_time() - TimeDelta::days(2)));
    let service = service_on(stores, 0, &clock);
    let user = unique_user("service-cleanup");
    let expired = service
        .login(user.clone(), DeviceInfo::new())
        .await
        .unwrap();
    clock.advance(TimeDelta::days(2) - TimeDelta::minutes(30));
    let live = service
        .login(user.clone(), DeviceInfo::new())
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(30));
    let report = service
        .cleanup(clock_now(&clock), NonZeroU32::new(1).unwrap())
        .await
        .unwrap();
    assert!(
        report.devices >= 1,
        "rule C: the expired device was not counted"
    );
    let devices = service.devices().list(&user).await.unwrap();
    assert_eq!(
        devices.len(),
        1,
        "rule C: cleanup removed the wrong devices"
    );
    assert_eq!(
        devices[0].id, live.device.id,
        "rule C: the live device stays"
    );
    let refresh = service
        .refresh(expired.tokens.refresh_token.expose(), None)
        .await;
    assert!(
        refresh.is_err(),
        "rule C: an expired device's token outlived cleanup"
    );
    service.devices().delete_all(&user).await.unwrap();
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    crate::clock::Clock::now(clock)
}
