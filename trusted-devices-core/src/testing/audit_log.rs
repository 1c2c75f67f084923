//! Rule H's checks for any [`AuditLog`]: newest first by cursor, per user, every field as
//! written, deletion by age in batches, and concurrent appends from several handles.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::{AuditEntry, AuditKind, AuditLog};
use crate::domain::{Coordinates, DeviceId, Location, UserId};
use crate::random::OsRandom;
use crate::testing::STORE_VS_RULE;
use crate::testing::fixtures::base_time;
use crate::testing::{CONCURRENT_TASKS, join_all, pick, unique_user};

type Handles = [Arc<dyn AuditLog>];

/// Runs every rule H check against `handles` (several handles on one store stand for
/// several servers).
pub async fn run_audit_log_suite(handles: &Handles) {
    rule_h_every_field_reads_back_as_written(handles).await;
    rule_h_pages_run_newest_first_by_cursor(handles).await;
    rule_h_histories_are_per_user(handles).await;
    rule_h_deletion_by_age_goes_in_batches(handles).await;
    rule_h_concurrent_appends_are_all_kept(handles).await;
}

fn entry(user: &UserId, at: DateTime<Utc>, kind: AuditKind) -> AuditEntry {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let entropy: [u8; 10] = crate::random::bytes(&OsRandom);
    AuditEntry {
        id: uuid::Builder::from_unix_timestamp_millis(millis, &entropy).into_uuid(),
        user_id: user.clone(),
        at,
        kind,
        actor: None,
        target: None,
        target_name: None,
        detail: None,
        client_ip: None,
        location: None,
    }
}

fn one(limit: u32) -> NonZeroU32 {
    NonZeroU32::new(limit).expect("a limit above zero")
}

/// Every field of an entry comes back from `page` as it went in.
pub async fn rule_h_every_field_reads_back_as_written(handles: &Handles) {
    let user = unique_user("audit-fields");
    let base = base_time();
    let mut full = entry(&user, base, AuditKind::DeviceRevoked);
    full.actor = Some(DeviceId::generate(base, &OsRandom));
    full.target = Some(DeviceId::generate(base, &OsRandom));
    full.target_name = Some("Kitchen tablet ☕".into());
    full.detail = Some("application:password_changed".into());
    full.client_ip = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    full.location = Some(Location {
        country: Some("Portugal".into()),
        region: Some("Lisbon".into()),
        city: Some("Lisbon".into()),
        country_code: Some("PT".into()),
        asn: Some(64_500),
        coordinates: Coordinates::new(38.72, -9.14),
    });
    pick(handles, 0).append(&full).await.expect("append");
    let bare = entry(&user, base + TimeDelta::seconds(1), AuditKind::Login);
    pick(handles, 1).append(&bare).await.expect("append");
    let read = pick(handles, 1)
        .page(&user, None, one(10))
        .await
        .expect("page");
    assert_eq!(
        read,
        vec![bare, full],
        "conformance (SPEC §4 H): page must return every field as written, newest first ({STORE_VS_RULE})"
    );
}

/// Pages of two, following each page's last position, visit every entry once, newest
/// first, ties on the instant broken by id.
pub async fn rule_h_pages_run_newest_first_by_cursor(handles: &Handles) {
    let user = unique_user("audit-pages");
    let base = base_time();
    let mut written = Vec::new();
    for second in [5, 1, 3, 3, 2] {
        let at = base + TimeDelta::seconds(second);
        let item = entry(&user, at, AuditKind::Login);
        pick(handles, written.len())
            .append(&item)
            .await
            .expect("append");
        written.push(item);
    }
    written.sort_by_key(|item| std::cmp::Reverse(item.position()));
    let mut seen = Vec::new();
    let mut before = None;
    for page in 0..10 {
        let read = pick(handles, page)
            .page(&user, before, one(2))
            .await
            .expect("page");
        before = read.last().map(AuditEntry::position);
        let done = read.len() < 2;
        seen.extend(read);
        if done {
            break;
        }
    }
    assert_eq!(
        seen, written,
        "conformance (SPEC §4 H): pages after each other's last position must list every entry once, newest first ({STORE_VS_RULE})"
    );
}

/// One user's history never shows another's entries.
pub async fn rule_h_histories_are_per_user(handles: &Handles) {
    let alice = unique_user("audit-alice");
    let bob = unique_user("audit-bob");
    pick(handles, 0)
        .append(&entry(&alice, base_time(), AuditKind::Login))
        .await
        .expect("append");
    let read = pick(handles, 1)
        .page(&bob, None, one(10))
        .await
        .expect("page");
    assert!(
        read.is_empty(),
        "conformance (SPEC §4 H): a user's history must hold only their own entries"
    );
}

/// Entries before the cut-off go, a batch at a time; later ones stay.
pub async fn rule_h_deletion_by_age_goes_in_batches(handles: &Handles) {
    let user = unique_user("audit-retention");
    // Before every other check's entries (`base_time` is in 2200-2201), yet never in the
    // real past: stores may expire keys relative to an entry's instant (Redis does). Only
    // this check's entries, and what earlier runs of it left, are this old.
    let old = base_time() - TimeDelta::days(400);
    for minute in 0..5 {
        let item = entry(
            &user,
            old + TimeDelta::minutes(minute),
            AuditKind::DeviceExpired,
        );
        pick(handles, 0).append(&item).await.expect("append");
    }
    let kept = entry(&user, old + TimeDelta::days(1), AuditKind::Login);
    pick(handles, 0).append(&kept).await.expect("append");
    let cutoff = old + TimeDelta::hours(1);
    let mut deleted = Vec::new();
    loop {
        let count = pick(handles, deleted.len())
            .delete_before(cutoff, one(2))
            .await
            .expect("delete");
        assert!(
            count <= 2,
            "conformance (SPEC §4 H): a deletion batch must not exceed its size"
        );
        deleted.push(count);
        if count < 2 {
            break;
        }
    }
    assert!(
        deleted.iter().sum::<u64>() >= 5,
        "conformance (SPEC §4 H): every entry before the cut-off must go: {deleted:?}"
    );
    let left = pick(handles, 1)
        .page(&user, None, one(10))
        .await
        .expect("page");
    assert_eq!(
        left,
        vec![kept],
        "conformance (SPEC §4 H): later entries must stay ({STORE_VS_RULE})"
    );
}

/// Appends from many tasks over every handle are all kept.
pub async fn rule_h_concurrent_appends_are_all_kept(handles: &Handles) {
    let user = unique_user("audit-concurrent");
    let base = base_time();
    let tasks = (0..CONCURRENT_TASKS)
        .map(|index| {
            let log = pick(handles, index);
            let at = base + TimeDelta::milliseconds(i64::try_from(index).unwrap_or(0));
            let item = entry(&user, at, AuditKind::Login);
            tokio::spawn(async move { log.append(&item).await })
        })
        .collect();
    for appended in join_all(tasks).await {
        appended.expect("append");
    }
    let read = pick(handles, 0)
        .page(&user, None, one(100))
        .await
        .expect("page");
    assert_eq!(
        read.len(),
        CONCURRENT_TASKS,
        "conformance (SPEC §4 H): every concurrent append must be kept ({STORE_VS_RULE})"
    );
}
