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

/// Issue 29: above the per-network buckets, one coarser bucket per name bounds the guesses
/// from every network together (an IPv6 /48 holds 65,536 /64s).
#[tokio::test]
async fn rule_k_a_coarser_bucket_per_name_bounds_guesses_from_all_networks() {
    let r = rig(Policy::builder()
        .login_rate_per_ip(None)
        .login_rate_per_user(per(3, 900))
        .login_rate_per_name(per(10, 900)));
    let mut admitted = 0;
    for network in 0..20 {
        let address = ip(&format!("2001:db8:0:{network:x}::1"));
        for _ in 0..3 {
            if r.service.attempt_login("alice", address).await.is_ok() {
                admitted += 1;
            }
        }
    }
    assert_eq!(admitted, 10, "20 networks, 60 tries: the name's 10 at most");
    let other = r.service.attempt_login("bob", ip("2001:db8::1")).await;
    assert!(other.is_ok(), "other names are untouched");
}

/// Issue 29: an IPv4-mapped IPv6 address counts as its IPv4 address, in the per-address
/// buckets and in the per-network one.
#[tokio::test]
async fn rule_k_an_ipv4_mapped_address_counts_as_its_ipv4_address() {
    let r = rig(Policy::builder()
        .login_rate_per_ip(per(2, 60))
        .login_rate_per_user(None));
    for _ in 0..2 {
        r.service
            .attempt_login("alice", ip("192.0.2.1"))
            .await
            .map(drop)
            .unwrap();
    }
    let mapped = r.service.attempt_login("bob", ip("::ffff:192.0.2.1")).await;
    assert!(
        matches!(mapped, Err(Error::RateLimited { .. })),
        "the mapped address shares the IPv4 address's bucket: {mapped:?}"
    );
    let neighbours_mapped = ip("::ffff:192.0.2.2");
    assert!(
        r.service
            .attempt_login("bob", neighbours_mapped)
            .await
            .is_ok()
    );

    let r = rig(Policy::builder()
        .login_rate_per_ip(None)
        .login_rate_per_user(per(1, 900)));
    r.service
        .attempt_login("alice", ip("198.51.100.7"))
        .await
        .map(drop)
        .unwrap();
    let same_network = r
        .service
        .attempt_login("alice", ip("::ffff:198.51.100.9"))
        .await;
    assert!(
        matches!(same_network, Err(Error::RateLimited { .. })),
        "the mapped address is in the IPv4 /24: {same_network:?}"
    );
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

/// Issue 23's fifth finding: per-address buckets were per /128, so one /64 holder had 2^64
/// buckets. Now an IPv6 client counts by its /64 (`rate_limit_ipv6_prefix`), IPv4 by its
/// address.
#[tokio::test]
async fn rule_k_ipv6_clients_count_by_their_64_and_the_prefix_is_a_setting() {
    let r = rig(Policy::builder()
        .login_rate_per_ip(per(2, 60))
        .login_rate_per_user(None));
    for host in ["2001:db8:1:2::1", "2001:db8:1:2::ffff"] {
        r.service
            .attempt_login("alice", ip(host))
            .await
            .map(drop)
            .unwrap();
    }
    let same_64 = r
        .service
        .attempt_login("alice", ip("2001:db8:1:2:abcd::9"))
        .await;
    assert!(
        matches!(same_64, Err(Error::RateLimited { .. })),
        "{same_64:?}"
    );
    let other_64 = r
        .service
        .attempt_login("alice", ip("2001:db8:1:3::1"))
        .await;
    assert!(other_64.is_ok(), "another /64 has its own bucket");
    for host in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        let v4 = r.service.attempt_login("alice", ip(host)).await;
        assert!(v4.is_ok(), "IPv4 counts by address: {host}");
    }

    let per_address = rig(Policy::builder()
        .login_rate_per_ip(per(1, 60))
        .login_rate_per_user(None)
        .rate_limit_ipv6_prefix(128));
    for host in ["2001:db8::1", "2001:db8::2"] {
        let own = per_address.service.attempt_login("alice", ip(host)).await;
        assert!(own.is_ok(), "a /128 prefix counts each address: {host}");
    }
    assert!(Policy::builder().rate_limit_ipv6_prefix(0).build().is_err());
    assert!(
        Policy::builder()
            .rate_limit_ipv6_prefix(129)
            .build()
            .is_err()
    );
}

/// Issue 23's fourth finding: the in-memory limiter was bounded in keys, not bytes, and
/// keys were built from unvalidated names of any length. Names are validated before any
/// bucket now, and the limiter's bound is in bytes, keys included.
#[tokio::test]
async fn rule_k_names_are_validated_first_and_the_limiter_is_bounded_in_bytes() {
    let r = rig(Policy::builder());
    let long_name = "x".repeat(16 * 1024);
    let refused = r.service.attempt_login(&long_name, ip("192.0.2.1")).await;
    assert!(
        matches!(refused, Err(Error::InvalidRequest(_))),
        "{refused:?}"
    );
    assert!(
        r.hook.take().is_empty(),
        "an invalid name touches no bucket"
    );

    let limiter = MemoryRateLimiter::new(64 * 1024);
    let limit = RateLimit::new(5, Duration::from_secs(60)).unwrap();
    let now = r.service.now();
    for i in 0..5_000 {
        let name = format!("{i:0>250}");
        let key = trusted_devices_core::rate_limit::RateKey::login_user(&name, ip("192.0.2.1"));
        limiter
            .check(
                &key,
                limit,
                now,
                trusted_devices_core::rate_limit::Take::One,
            )
            .await
            .unwrap();
    }
    assert!(
        limiter.weight() <= 64 * 1024,
        "bounded in bytes: {} bytes kept",
        limiter.weight()
    );
}

/// A limiter whose store is down: every check fails, and each one is counted.
#[derive(Default)]
struct DownLimiter {
    asked: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl RateLimiter for DownLimiter {
    async fn check(
        &self,
        _: &trusted_devices_core::rate_limit::RateKey,
        _: RateLimit,
        _: chrono::DateTime<chrono::Utc>,
        _: trusted_devices_core::rate_limit::Take,
    ) -> Result<trusted_devices_core::rate_limit::Admit, trusted_devices_core::StorageError> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(trusted_devices_core::StorageError::unavailable(
            std::io::Error::other("limiter store down"),
        ))
    }
}

/// A limiter that cannot be reached lets requests through, and is asked once per request,
/// not once per bucket: each ask waits for the store's timeout, so a login with two
/// buckets would wait twice.
#[tokio::test]
async fn rule_k_an_unreachable_limiter_lets_through_and_is_asked_once_per_request() {
    let down = Arc::new(DownLimiter::default());
    let service = TrustedDevices::builder(keys())
        .rate_limiter(down.clone())
        .build();
    let login = service
        .login(
            UserId::new("alice").unwrap(),
            DeviceInfo::new().ip("192.0.2.1".parse().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(down.asked.load(std::sync::atomic::Ordering::SeqCst), 1);
    service
        .refresh(login.tokens.refresh_token.expose(), ip("192.0.2.1"))
        .await
        .unwrap();
    assert_eq!(
        down.asked.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "the refresh asked once before it and once to count it"
    );
}
