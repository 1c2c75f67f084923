//! Rule L: login creates a named device and a token pair; single login; max devices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use common::Fixture;
use serde_json::json;
use trusted_devices_core::{
    BoxError, DeviceInfo, Error, Eviction, Geolocator, Location, Metadata, Policy, UserId,
};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

#[tokio::test]
async fn rule_l_login_creates_a_device_and_a_token_pair() {
    let f = Fixture::defaults();
    let ip: IpAddr = "203.0.113.7".parse().unwrap();
    let login = f
        .login_with(
            "alice",
            DeviceInfo::new()
                .user_agent(FIREFOX)
                .ip(ip)
                .requested_name("  Work laptop "),
        )
        .await;
    let device = &login.device;
    assert_eq!(device.name.as_str(), "Work laptop");
    assert_eq!(device.user_agent, FIREFOX);
    assert_eq!((device.ip, device.last_ip), (Some(ip), Some(ip)));
    assert_eq!(device.created_at, f.now());
    assert_eq!(device.last_seen_at, f.now());
    assert!(device.can_delete_other_devices && device.can_update_other_devices);
    assert_eq!(
        device.id.as_uuid().get_version_num(),
        7,
        "device ids are UUID v7"
    );
    assert_eq!(login.tokens.token_type, "Bearer");
    assert_eq!(login.tokens.expires_in, 15 * 60);
    assert_eq!(login.tokens.device_id, device.id);
    assert_eq!(
        f.service.devices().get(device.id).await.unwrap().as_ref(),
        Some(device)
    );
}

#[tokio::test]
async fn rule_l_device_name_comes_from_header_else_user_agent_else_unknown() {
    let f = Fixture::defaults();
    let named = f
        .login_with("alice", DeviceInfo::new().user_agent(FIREFOX))
        .await;
    assert_eq!(named.device.name.as_str(), "Firefox on Linux");
    let unknown = f.login_with("alice", DeviceInfo::new()).await;
    assert_eq!(unknown.device.name.as_str(), "Unknown device");
    let blank = f
        .login_with(
            "alice",
            DeviceInfo::new().requested_name("   ").user_agent(FIREFOX),
        )
        .await;
    assert_eq!(blank.device.name.as_str(), "Firefox on Linux");
    let long = f
        .login_with("alice", DeviceInfo::new().requested_name("é".repeat(150)))
        .await;
    assert_eq!(
        long.device.name.as_str().chars().count(),
        100,
        "names are cut to 100 characters"
    );
}

#[tokio::test]
async fn rule_l_user_agent_is_truncated_to_512_bytes() {
    let f = Fixture::defaults();
    let login = f
        .login_with("alice", DeviceInfo::new().user_agent("a".repeat(2000)))
        .await;
    assert_eq!(login.device.user_agent.len(), 512);
}

#[tokio::test]
async fn rule_l_new_devices_take_permission_defaults_from_the_policy() {
    let f = Fixture::new(
        Policy::builder()
            .default_can_delete_other_devices(false)
            .default_can_update_other_devices(false),
    );
    let login = f.login("alice").await;
    assert!(!login.device.can_delete_other_devices);
    assert!(!login.device.can_update_other_devices);
}

#[test]
fn rule_l_user_ids_and_metadata_are_bounded() {
    assert!(UserId::new("").is_err());
    assert!(UserId::new("u".repeat(255)).is_ok());
    assert!(UserId::new("u".repeat(256)).is_err());
    assert!(Metadata::new(json!({"app": "1.0"})).is_ok());
    assert!(Metadata::new(json!(["not", "an", "object"])).is_err());
    assert!(
        Metadata::new(json!({"big": "x".repeat(4096)})).is_err(),
        "metadata over 4 KiB"
    );
}

#[tokio::test]
async fn rule_l_single_login_revokes_every_other_device() {
    let f = Fixture::new(Policy::builder().single_login(true));
    let first = f.login("alice").await;
    let second = f.login("alice").await;
    let bob = f.login("bob").await;
    let third = f.login("alice").await;
    let listed = f.service.list(&f.acting(&third).await).await.unwrap();
    assert_eq!(
        listed.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![third.device.id]
    );
    for old in [&first, &second] {
        let access = f.service.authenticate(&old.tokens.access_token, None).await;
        assert!(matches!(access, Err(Error::DeviceRevoked)));
        let refresh = f
            .service
            .refresh(old.tokens.refresh_token.expose(), None)
            .await;
        assert!(matches!(refresh, Err(Error::RefreshTokenInvalid)));
    }
    assert!(
        f.service
            .authenticate(&bob.tokens.access_token, None)
            .await
            .is_ok(),
        "other users untouched"
    );
}

#[tokio::test]
async fn rule_l_max_devices_reject_creates_nothing() {
    let f = Fixture::new(Policy::builder().max_devices(Some(2)));
    f.login("alice").await;
    f.login("alice").await;
    let (devices, tokens) = (f.devices.len(), f.tokens.len());
    let refused = f
        .service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await;
    assert!(matches!(refused, Err(Error::TooManyDevices)));
    assert_eq!(
        (f.devices.len(), f.tokens.len()),
        (devices, tokens),
        "a refused login writes nothing"
    );
    f.login("bob").await;
}

#[tokio::test]
async fn rule_l_evict_least_recently_used_revokes_the_device_seen_longest_ago() {
    let f = Fixture::new(
        Policy::builder()
            .max_devices(Some(2))
            .eviction(Eviction::EvictLeastRecentlyUsed)
            .touch_interval(std::time::Duration::ZERO),
    );
    let older = f.login("alice").await;
    f.advance(chrono::TimeDelta::minutes(1));
    let newer = f.login("alice").await;
    f.advance(chrono::TimeDelta::minutes(1));
    f.acting(&older).await; // seen now: newer is now the least recently used
    let third = f.login("alice").await;
    assert!(matches!(
        f.service
            .authenticate(&newer.tokens.access_token, None)
            .await,
        Err(Error::DeviceRevoked)
    ));
    assert!(
        f.service
            .authenticate(&older.tokens.access_token, None)
            .await
            .is_ok()
    );
    assert!(
        f.service
            .authenticate(&third.tokens.access_token, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn rule_l_evict_oldest_revokes_the_first_created() {
    let f = Fixture::new(
        Policy::builder()
            .max_devices(Some(2))
            .eviction(Eviction::EvictOldest),
    );
    let oldest = f.login("alice").await;
    f.advance(chrono::TimeDelta::minutes(1));
    let middle = f.login("alice").await;
    f.advance(chrono::TimeDelta::minutes(1));
    f.login("alice").await;
    let refresh = f
        .service
        .refresh(oldest.tokens.refresh_token.expose(), None)
        .await;
    assert!(
        matches!(refresh, Err(Error::RefreshTokenInvalid)),
        "evicted device's refresh token"
    );
    assert!(
        f.service
            .authenticate(&middle.tokens.access_token, None)
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule_l_concurrent_logins_never_exceed_max_devices() {
    let f = Fixture::new(Policy::builder().max_devices(Some(3)));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let service = f.service.clone();
            tokio::spawn(async move {
                service
                    .login(UserId::new("alice").unwrap(), DeviceInfo::new())
                    .await
            })
        })
        .collect();
    let mut succeeded = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => succeeded += 1,
            Err(error) => assert!(matches!(error, Error::TooManyDevices)),
        }
    }
    assert_eq!(succeeded, 3);
    assert_eq!(f.devices.len(), 3);
    assert_eq!(f.tokens.len(), 3, "refused logins leave no token behind");
}

struct FixedGeolocator(Result<Location, &'static str>);

#[async_trait]
impl Geolocator for FixedGeolocator {
    async fn locate(&self, _login: &DeviceInfo) -> Result<Option<Location>, BoxError> {
        self.0.clone().map(Some).map_err(Into::into)
    }
}

#[tokio::test]
async fn rule_l_geolocation_fills_location_and_its_failure_never_fails_login() {
    let paris = Location::new(Some("FR".into()), None, Some("Paris".into()));
    for (answer, expected) in [
        (Ok(paris.clone()), Some(paris)),
        (Err("lookup failed"), None),
    ] {
        let service = trusted_devices_core::TrustedDevices::builder(common::keys())
            .geolocator(Arc::new(FixedGeolocator(answer)))
            .build();
        let info = DeviceInfo::new().ip("203.0.113.7".parse().unwrap());
        let login = service
            .login(UserId::new("alice").unwrap(), info)
            .await
            .unwrap();
        assert_eq!(login.device.location, expected);
    }
}

/// A geolocator that never answers.
struct Hanging;

#[async_trait]
impl Geolocator for Hanging {
    async fn locate(&self, _login: &DeviceInfo) -> Result<Option<Location>, BoxError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn rule_l_a_geolocation_timeout_never_fails_login() {
    use trusted_devices_core::Sleep;
    // The injected timer fires at once: the hanging lookup is abandoned, the login goes on.
    let service = trusted_devices_core::TrustedDevices::builder(common::keys())
        .geolocator(Arc::new(Hanging))
        .geolocation_timeout(
            std::time::Duration::from_millis(300),
            Arc::new(|_| Box::pin(std::future::ready(())) as Sleep),
        )
        .build();
    let info = DeviceInfo::new().ip("203.0.113.7".parse().unwrap());
    // Bounded, so that a broken timeout fails this test instead of hanging it.
    let login = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        service.login(UserId::new("alice").unwrap(), info),
    )
    .await
    .expect("a hanging geolocator held the login up")
    .unwrap();
    assert_eq!(login.device.location, None);

    // A timer that never fires leaves a prompt answer untouched.
    let paris = Location::new(Some("FR".into()), None, None);
    let service = trusted_devices_core::TrustedDevices::builder(common::keys())
        .geolocator(Arc::new(FixedGeolocator(Ok(paris.clone()))))
        .geolocation_timeout(
            std::time::Duration::from_secs(1),
            Arc::new(|_| Box::pin(std::future::pending::<()>()) as Sleep),
        )
        .build();
    let info = DeviceInfo::new().ip("203.0.113.7".parse().unwrap());
    let login = service
        .login(UserId::new("alice").unwrap(), info)
        .await
        .unwrap();
    assert_eq!(login.device.location, Some(paris));
}

/// The core's rule L decision against the shared table the conformance suite also runs on
/// every store (the Redis script mirrors this function).
#[test]
fn rule_l_admission_matches_the_shared_table() {
    for case in trusted_devices_core::testing::RULE_L_CASES {
        assert_eq!(case.limit.admission(case.held), case.expected, "{case:?}");
    }
}
