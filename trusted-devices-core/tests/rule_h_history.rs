//! Rule H: every security event of a user is in their history with its actor, target,
//! address and location; the history outlives devices, pages by cursor over HTTP, is
//! trimmed by cleanup after the retention, and a failing log never fails a request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use common::keys;
use trusted_devices_core::audit::{AuditEntry, AuditKind, AuditLog, AuditPosition, MemoryAuditLog};
use trusted_devices_core::http::{ApiRequest, DeviceApi, Endpoint};
use trusted_devices_core::testing::run_audit_log_suite;
use trusted_devices_core::{
    DeviceInfo, DeviceName, DevicePatch, Eviction, ManualClock, Policy, PolicyBuilder,
    StorageError, TrustedDevices, UserId, async_trait,
};

#[tokio::test]
async fn rule_h_memory_audit_log_passes_the_public_checks() {
    let shared: Arc<dyn AuditLog> = Arc::new(MemoryAuditLog::new());
    run_audit_log_suite(&[shared.clone(), shared]).await;
}

struct Rig {
    service: TrustedDevices,
    clock: Arc<ManualClock>,
    log: Arc<MemoryAuditLog>,
}

fn rig(policy: PolicyBuilder) -> Rig {
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let log = Arc::new(MemoryAuditLog::new());
    let service = TrustedDevices::builder(keys())
        .policy(policy.build().unwrap())
        .clock(clock.clone())
        .audit_log(log.clone())
        .build();
    Rig {
        service,
        clock,
        log,
    }
}

async fn history(log: &MemoryAuditLog, user: &str) -> Vec<AuditEntry> {
    let user = UserId::new(user).unwrap();
    log.page(&user, None, NonZeroU32::new(100).unwrap())
        .await
        .unwrap()
}

fn from(ip: &str) -> DeviceInfo {
    DeviceInfo::new().ip(ip.parse().unwrap())
}

#[tokio::test]
async fn rule_h_every_kind_with_actor_target_and_address() {
    let r = rig(Policy::builder()
        .delete_delay(Duration::ZERO)
        .update_delay(Duration::ZERO)
        .max_devices(Some(3))
        .eviction(Eviction::EvictOldest));
    let alice = || UserId::new("alice").unwrap();
    let laptop = r.service.login(alice(), from("203.0.113.1")).await.unwrap();
    r.clock.advance(TimeDelta::seconds(1));
    let phone = r.service.login(alice(), from("203.0.113.2")).await.unwrap();
    r.clock.advance(TimeDelta::seconds(1));
    let acting = r
        .service
        .authenticate(
            &laptop.tokens.access_token,
            Some("203.0.113.9".parse().unwrap()),
        )
        .await
        .unwrap();
    let rename = DevicePatch {
        name: Some(DeviceName::new("Old phone").unwrap()),
        can_delete_other_devices: Some(false),
        ..Default::default()
    };
    r.service
        .update(&acting, phone.device.id, &rename)
        .await
        .unwrap();
    r.clock.advance(TimeDelta::seconds(1));
    r.service.delete(&acting, phone.device.id).await.unwrap();
    r.clock.advance(TimeDelta::seconds(1));
    // Three more logins at max_devices 3, evicting the oldest: the laptop goes.
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        r.service.login(alice(), from(ip)).await.unwrap();
        r.clock.advance(TimeDelta::seconds(1));
    }
    let entries = history(&r.log, "alice").await;
    let kinds: Vec<&str> = entries.iter().rev().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "login",
            "login",
            "device_renamed",
            "permissions_changed",
            "device_revoked",
            "login",
            "login",
            "device_evicted",
            "login",
        ]
    );
    let by_kind = |kind: AuditKind| entries.iter().find(|e| e.kind == kind).unwrap();
    let revoked = by_kind(AuditKind::DeviceRevoked);
    assert_eq!(revoked.actor, Some(laptop.device.id));
    assert_eq!(revoked.target, Some(phone.device.id));
    assert_eq!(revoked.target_name.as_deref(), Some("Old phone"));
    assert_eq!(revoked.detail.as_deref(), Some("revoked_by_device"));
    assert_eq!(
        revoked.client_ip,
        Some("203.0.113.9".parse().unwrap()),
        "the request's address"
    );
    let renamed = by_kind(AuditKind::DeviceRenamed);
    assert_eq!(renamed.detail.as_deref(), Some("Old phone"));
    assert_ne!(
        renamed.target_name.as_deref(),
        Some("Old phone"),
        "named as it was"
    );
    let flags = by_kind(AuditKind::PermissionsChanged);
    assert!(
        flags
            .detail
            .as_deref()
            .unwrap()
            .contains("can_delete_other_devices=false")
    );
    let evicted = by_kind(AuditKind::DeviceEvicted);
    assert_eq!(
        evicted.target,
        Some(laptop.device.id),
        "the history outlives the device"
    );
    let first_login = entries.last().unwrap();
    assert_eq!(first_login.client_ip, Some("203.0.113.1".parse().unwrap()));
    assert_eq!(first_login.actor, Some(laptop.device.id));
}

#[tokio::test]
async fn rule_h_refused_logins_reuse_and_application_revocations() {
    let r = rig(Policy::builder()
        .max_devices(Some(1))
        .refresh_reuse_grace(Duration::ZERO)
        .login_rate_per_ip(None)
        .login_rate_per_user(trusted_devices_core::rate_limit::RateLimit::new(
            1,
            Duration::from_secs(60),
        )));
    let alice = || UserId::new("alice").unwrap();
    let first = r.service.login(alice(), from("203.0.113.1")).await.unwrap();
    // Each step from its own network: rule K's per-name bucket is per network, and the
    // service counts every login in it.
    assert!(
        r.service
            .login(alice(), from("198.51.100.1"))
            .await
            .is_err()
    );
    let ip = Some("192.0.2.1".parse().unwrap());
    r.service
        .attempt_login("alice", ip)
        .await
        .map(drop)
        .unwrap();
    assert!(r.service.attempt_login("alice", ip).await.is_err());
    let pair = r
        .service
        .refresh(first.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    r.clock.advance(TimeDelta::seconds(1));
    let reused = r
        .service
        .refresh(first.tokens.refresh_token.expose(), ip)
        .await;
    assert!(reused.is_err());
    drop(pair);
    let second = r.service.login(alice(), from("100.64.0.5")).await.unwrap();
    r.service
        .revoke_all_because(&alice(), None, "password_changed")
        .await
        .unwrap();
    drop(second);
    let entries = history(&r.log, "alice").await;
    let details: Vec<(&str, Option<&str>)> = entries
        .iter()
        .rev()
        .map(|e| (e.kind.name(), e.detail.as_deref()))
        .collect();
    assert_eq!(
        details,
        [
            ("login", None),
            ("login_rejected", Some("too_many_devices")),
            ("login_rejected", Some("rate_limited")),
            ("refresh_reuse", None),
            ("device_revoked", Some("refresh_reuse")),
            ("login", None),
            ("device_revoked", Some("application:password_changed")),
        ]
    );
    let reuse = entries
        .iter()
        .find(|e| e.kind == AuditKind::RefreshReuse)
        .unwrap();
    assert_eq!(reuse.target, Some(first.device.id));
    assert_eq!(
        reuse.client_ip, ip,
        "the address that presented the consumed token"
    );
}

#[tokio::test]
async fn rule_h_cleanup_deletes_entries_past_the_retention_and_reports_them() {
    let r = rig(Policy::builder().audit_retention(Duration::from_secs(86_400)));
    r.service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await
        .unwrap();
    r.clock.advance(TimeDelta::hours(25));
    let recent = r
        .service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await
        .unwrap();
    let report = r
        .service
        .cleanup(r.service.now(), NonZeroU32::new(10).unwrap())
        .await
        .unwrap();
    assert_eq!(report.audit_entries, 1);
    let left = history(&r.log, "alice").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].target, Some(recent.device.id));
}

/// An audit log whose every call fails.
struct Broken;

#[async_trait]
impl AuditLog for Broken {
    async fn append(&self, _: &AuditEntry) -> Result<(), StorageError> {
        Err(StorageError::unavailable("audit store down"))
    }
    async fn page(
        &self,
        _: &UserId,
        _: Option<AuditPosition>,
        _: NonZeroU32,
    ) -> Result<Vec<AuditEntry>, StorageError> {
        Err(StorageError::unavailable("audit store down"))
    }
    async fn delete_before(&self, _: DateTime<Utc>, _: NonZeroU32) -> Result<u64, StorageError> {
        Err(StorageError::unavailable("audit store down"))
    }
}

#[tokio::test]
async fn rule_h_a_failing_audit_log_never_fails_the_request_that_caused_the_entry() {
    let service = TrustedDevices::builder(keys())
        .policy(
            Policy::builder()
                .delete_delay(Duration::ZERO)
                .build()
                .unwrap(),
        )
        .audit_log(Arc::new(Broken))
        .build();
    let alice = || UserId::new("alice").unwrap();
    let a = service
        .login(alice(), DeviceInfo::new())
        .await
        .expect("login despite the log");
    let b = service.login(alice(), DeviceInfo::new()).await.unwrap();
    let acting = service
        .authenticate(&a.tokens.access_token, None)
        .await
        .unwrap();
    service
        .delete(&acting, b.device.id)
        .await
        .expect("delete despite the log");
    service
        .refresh(a.tokens.refresh_token.expose(), None)
        .await
        .expect("refresh despite the log");
    // Reading it is the one thing that fails: 503, as any storage outage.
    let api = DeviceApi::new(service.clone());
    let request = ApiRequest {
        authorization: Some(b"Bearer x"),
        ..Default::default()
    };
    let denied = api.handle(Endpoint::Activity, request).await;
    assert_eq!(denied.status, 401, "authentication comes first");
    let bearer = format!("Bearer {}", a.tokens.access_token);
    let request = ApiRequest {
        authorization: Some(bearer.as_bytes()),
        ..Default::default()
    };
    assert_eq!(api.handle(Endpoint::Activity, request).await.status, 503);
}

#[tokio::test]
async fn rule_h_the_activity_route_pages_with_next_cursor() {
    let r = rig(Policy::builder());
    let alice = || UserId::new("alice").unwrap();
    let mut last = None;
    for _ in 0..5 {
        last = Some(r.service.login(alice(), DeviceInfo::new()).await.unwrap());
        r.clock.advance(TimeDelta::seconds(1));
    }
    let token = last.unwrap().tokens.access_token;
    let bearer = format!("Bearer {token}");
    let api = DeviceApi::new(r.service.clone());
    let get = |query: Option<String>| {
        let api = api.clone();
        let bearer = bearer.clone();
        async move {
            let request = ApiRequest {
                authorization: Some(bearer.as_bytes()),
                query: query.as_deref(),
                ..Default::default()
            };
            let response = api.handle(Endpoint::Activity, request).await;
            (
                response.status,
                serde_json::from_slice::<serde_json::Value>(&response.body).unwrap(),
            )
        }
    };
    let (status, first) = get(Some("limit=3".into())).await;
    assert_eq!(status, 200);
    assert_eq!(first["events"].as_array().unwrap().len(), 3);
    assert_eq!(first["events"][0]["kind"], "login");
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = get(Some(format!("limit=3&cursor={cursor}"))).await;
    assert_eq!(second["events"].as_array().unwrap().len(), 2);
    assert!(second["next_cursor"].is_null());
    let (status, bad) = get(Some("cursor=not-a-cursor".into())).await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (422, Some("invalid_request"))
    );
}

#[tokio::test]
async fn rule_h_expiry_is_in_the_history_with_no_actor() {
    let r = rig(Policy::builder());
    let login = r
        .service
        .login(UserId::new("alice").unwrap(), from("203.0.113.1"))
        .await
        .unwrap();
    r.clock.advance(TimeDelta::days(31)); // past the 30-day idle timeout
    let report = r
        .service
        .cleanup(r.service.now(), NonZeroU32::new(10).unwrap())
        .await
        .unwrap();
    assert_eq!(report.devices, 1);
    let entries = history(&r.log, "alice").await;
    let expired = &entries[0];
    assert_eq!(expired.kind, AuditKind::DeviceExpired);
    assert_eq!(expired.target, Some(login.device.id));
    assert_eq!(expired.actor, None, "nobody acted: the session ran out");
    assert_eq!(expired.client_ip, None);
}

/// Issue 23's third finding: every refused login for a name, from any address, became a
/// `login_rejected` entry in that user's history (60 requests, 60 entries). Now a per-name
/// limit files one entry when it begins, and per-address refusals are filed under no user.
#[tokio::test]
async fn rule_h_nobody_else_can_fill_a_users_history_by_trying_the_name() {
    let r = rig(Policy::builder()
        .login_rate_per_ip(trusted_devices_core::rate_limit::RateLimit::new(
            3,
            Duration::from_secs(60),
        ))
        .login_rate_per_user(trusted_devices_core::rate_limit::RateLimit::new(
            3,
            Duration::from_secs(900),
        )));
    // One network trying alice's name (per-name buckets), then many single addresses
    // (per-address buckets), 60 refusals at least.
    for _ in 0..30 {
        let attempt = r
            .service
            .attempt_login("alice", Some("198.51.100.7".parse().unwrap()));
        let _ = attempt.await.map(drop);
        r.clock.advance(TimeDelta::seconds(1));
    }
    for i in 0..30 {
        let address = Some(format!("203.0.113.{}", i % 2).parse().unwrap());
        let _ = r.service.attempt_login("alice", address).await.map(drop);
    }
    let entries = history(&r.log, "alice").await;
    let refused: Vec<_> = entries
        .iter()
        .filter(|entry| entry.kind == AuditKind::LoginRejected)
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "one entry when the name's limiting began (SPEC v4: once per name per window, \
         whatever the number of networks), none per refused request: {entries:?}"
    );
}

/// Issue 29: per-name buckets existed only per /64, so an IPv6 /48 (65,536 networks) gave
/// one history entry per network. A name's limiting is now filed once per window.
#[tokio::test]
async fn rule_h_a_names_limiting_is_filed_once_whatever_the_number_of_networks() {
    let r = rig(Policy::builder()
        .login_rate_per_ip(None)
        .login_rate_per_user(trusted_devices_core::rate_limit::RateLimit::new(
            1,
            Duration::from_secs(900),
        ))
        .login_rate_per_name(None));
    for network in 0..40 {
        let address = format!("2001:db8:0:{network:x}::1").parse().unwrap();
        for _ in 0..3 {
            let _ = r
                .service
                .attempt_login("alice", Some(address))
                .await
                .map(drop);
        }
    }
    let refused = history(&r.log, "alice")
        .await
        .into_iter()
        .filter(|entry| entry.kind == AuditKind::LoginRejected)
        .count();
    assert_eq!(refused, 1, "40 networks limited, one entry");
}
