//! Rule K on the in-memory limiter and through the service, with a manual clock: the
//! public checks, 429 with `retry_after`, genuine-only device buckets, and the switch.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use common::{RecordingHook, keys};
use trusted_devices_core::rate_limit::{Bucket, MemoryRateLimiter, RateLimit, RateLimiter};
use trusted_devices_core::testing::run_rate_limiter_suite;
use trusted_devices_core::{
    DeviceInfo, Error, Event, ManualClock, Policy, PolicyBuilder, TrustedDevices, UserId,
};

#[tokio::test]
async fn rule_k_memory_limiter_passes_the_public_checks() {
    let shared: Arc<dyn RateLimiter> = Arc::new(MemoryRateLimiter::default());
    run_rate_limiter_suite(&[shared.clone(), shared]).await;
}

struct Rig {
    service: TrustedDevices,
    clock: Arc<ManualClock>,
    hook: Arc<RecordingHook>,
}

fn rig(policy: PolicyBuilder) -> Rig {
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let hook = Arc::new(RecordingHook::default());
    let service = TrustedDevices::builder(keys())
        .policy(policy.build().unwrap())
        .clock(clock.clone())
        .hook(hook.clone())
        .build();
    Rig {
        service,
        clock,
        hook,
    }
}

fn per(count: u32, seconds: u64) -> Option<RateLimit> {
    RateLimit::new(count, Duration::from_secs(seconds))
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

#[tokio::test]
async fn rule_k_login_per_address_answers_retry_after_then_allows_again() {
    let r = rig(Policy::builder().login_rate_per_ip(per(2, 60)));
    let from = ip("203.0.113.7");
    r.service
        .attempt_login("alice", from)
        .await
        .map(drop)
        .unwrap();
    r.service
        .attempt_login("bob", from)
        .await
        .map(drop)
        .unwrap();
    let refused = r.service.attempt_login("carol", from).await;
    assert!(
        matches!(refused, Err(Error::RateLimited { retry_after: 30 })),
        "{refused:?}"
    );
    assert!(r.hook.take().iter().any(|event| matches!(
        event,
        // Rule H: a per-address refusal is never filed under the name it tried.
        Event::RateLimited { bucket: Bucket::LoginIp, client_ip, user_id: None }
            if *client_ip == from
    )));
    r.service
        .attempt_login("carol", ip("198.51.100.1"))
        .await
        .map(drop)
        .unwrap();
    r.clock.advance(TimeDelta::seconds(30));
    r.service
        .attempt_login("carol", from)
        .await
        .map(drop)
        .unwrap();
}

#[tokio::test]
async fn rule_k_login_per_user_name_is_per_network_so_nobody_locks_the_owner_out() {
    let r = rig(Policy::builder()
        .login_rate_per_ip(None)
        .login_rate_per_user(per(3, 900)));
    let attacker = ip("203.0.113.7");
    for _ in 0..3 {
        r.service
            .attempt_login("alice", attacker)
            .await
            .map(drop)
            .unwrap();
    }
    // The same /24 shares the bucket: changing the last bits buys nothing.
    let neighbour = r.service.attempt_login("alice", ip("203.0.113.99")).await;
    assert!(matches!(neighbour, Err(Error::RateLimited { .. })));
    // The owner, from elsewhere, still signs in; other names from the attacker's network too.
    r.service
        .attempt_login("alice", ip("198.51.100.1"))
        .await
        .map(drop)
        .unwrap();
    r.service
        .attempt_login("bob", attacker)
        .await
        .map(drop)
        .unwrap();
}

#[tokio::test]
async fn rule_k_refresh_per_device_counts_only_genuine_refreshes() {
    let r = rig(Policy::builder()
        .refresh_rate_per_ip(None)
        .refresh_rate_per_device(per(2, 60)));
    let login = r
        .service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await
        .unwrap();
    let api = trusted_devices_core::http::DeviceApi::new(r.service.clone());
    let refresh = |token: String| {
        let api = api.clone();
        async move {
            let body = format!(r#"{{"refresh_token":"{token}"}}"#);
            let request = trusted_devices_core::http::ApiRequest {
                body: body.as_bytes(),
                client_ip: ip("203.0.113.7"),
                ..Default::default()
            };
            api.handle(trusted_devices_core::http::Endpoint::Refresh, request)
                .await
        }
    };
    // Forged tokens carrying the device's id: refused as invalid, and they take nothing.
    let device = login.device.id;
    let genuine = login.tokens.refresh_token.expose().to_owned();
    let forged = {
        let mut forged = genuine.clone();
        forged.pop();
        forged.push(if genuine.ends_with('A') { 'B' } else { 'A' });
        forged
    };
    for _ in 0..10 {
        let answer = refresh(forged.clone()).await;
        assert_eq!(answer.status, 401, "forged token");
    }
    let first = refresh(genuine).await;
    assert_eq!(first.status, 200, "the forged tokens emptied nothing");
    let body: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    let second = refresh(body["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(second.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&second.body).unwrap();
    let third = refresh(body["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        third.status, 429,
        "two genuine refreshes of {device} emptied its bucket"
    );
    assert_eq!(third.header("retry-after"), Some("30"));
}

#[tokio::test]
async fn rule_k_the_switch_turns_every_limit_off() {
    let r = rig(Policy::builder()
        .rate_limits(false)
        .login_rate_per_ip(per(1, 3_600)));
    for _ in 0..20 {
        r.service
            .attempt_login("alice", ip("203.0.113.7"))
            .await
            .map(drop)
            .unwrap();
    }
    let r = rig(Policy::builder().set("rate_limits", "off").unwrap());
    assert!(!r.service.policy().rate_limits());
}

#[tokio::test]
async fn rule_k_defaults_are_documented_and_every_limit_is_a_setting() {
    let policy = Policy::default();
    assert!(policy.rate_limits());
    assert_eq!(policy.login_rate_per_ip(), per(20, 60));
    assert_eq!(policy.login_rate_per_user(), per(10, 900));
    assert_eq!(policy.refresh_rate_per_ip(), per(120, 60));
    assert_eq!(policy.refresh_rate_per_device(), per(30, 60));
    assert_eq!(policy.verify_rate_per_ip(), per(600, 60));
    let policy = Policy::builder()
        .set("verify_rate_per_ip", "5/1s")
        .unwrap()
        .set("login_rate_per_user", "off")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(policy.verify_rate_per_ip(), per(5, 1));
    assert_eq!(policy.login_rate_per_user(), None);
    assert!(
        Policy::builder()
            .set("refresh_rate_per_ip", "lots")
            .is_err()
    );
}
