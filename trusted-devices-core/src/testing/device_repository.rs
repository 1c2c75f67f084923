//! Conformance of a [`DeviceRepository`]; each check is public to run alone: rules L and C and per-user isolation.

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::TimeDelta;

use crate::domain::{DeviceId, DeviceName, DevicePatch};
use crate::policy::Eviction;
use crate::store::{
    Admission, CreateOutcome, DeviceLimit, DeviceRepository, IdleExtension, Sighting,
};
use crate::testing::STORE_VS_RULE;
use crate::testing::fixtures::{base_time, expiry_base_time};
use crate::testing::rule_l_cases::RULE_L_CASES;
use crate::testing::{CONCURRENT_TASKS, join_all, pick, sample_device, unique_user};

type Handles = [Arc<dyn DeviceRepository>];

/// Runs every device-repository check against `handles` (several handles on the same
/// storage stand for several servers).
pub async fn run_device_repository_suite(handles: &Handles) {
    create_then_get_round_trips_every_field(handles).await;
    list_is_per_user_and_complete(handles).await;
    other_users_devices_are_out_of_reach(handles).await;
    update_applies_only_the_given_fields(handles).await;
    record_seen_is_throttled(handles).await;
    extend_idle_moves_the_deadline(handles).await;
    deletes_remove_exactly_their_devices(handles).await;
    rule_l_reject_limit_holds_under_concurrent_logins(handles).await;
    rule_l_eviction_picks_least_recently_used(handles).await;
    rule_l_eviction_picks_oldest(handles).await;
    rule_l_eviction_limit_holds_under_concurrent_logins(handles).await;
    rule_l_single_login_leaves_one_device_under_concurrent_logins(handles).await;
    rule_l_every_case_of_the_shared_table(handles).await;
    rule_c_delete_expired_works_in_batches_at_the_boundary(handles).await;
}

fn limit(max: u32, eviction: Eviction) -> DeviceLimit {
    DeviceLimit {
        single_login: false,
        max_devices: NonZeroU32::new(max),
        eviction,
    }
}

/// Creates `CONCURRENT_TASKS` devices of `user` at once, spread over every handle.
async fn concurrent_creates(
    handles: &Handles,
    user: &crate::domain::UserId,
    limit: DeviceLimit,
) -> Vec<Result<CreateOutcome, crate::error::StorageError>> {
    let base = base_time();
    let tasks = (0..CONCURRENT_TASKS)
        .map(|i| {
            let repo = pick(handles, i);
            let device = sample_device(user, base + TimeDelta::milliseconds(i as i64));
            tokio::spawn(async move { repo.create(device, limit).await })
        })
        .collect();
    join_all(tasks).await
}

fn created(outcome: CreateOutcome) -> Vec<crate::domain::Device> {
    match outcome {
        CreateOutcome::Created { displaced } => displaced,
        CreateOutcome::LimitReached => {
            panic!("conformance (rule L): create unexpectedly hit the limit")
        }
    }
}

/// Every field written by `create` reads back the same through `get` and `list`.
pub async fn create_then_get_round_trips_every_field(handles: &Handles) {
    let repo = pick(handles, 0);
    let user = unique_user("roundtrip");
    let device = sample_device(&user, base_time());
    let displaced = created(
        repo.create(device.clone(), DeviceLimit::NONE)
            .await
            .unwrap(),
    );
    assert!(
        displaced.is_empty(),
        "conformance (SPEC §2, device record): an unlimited create displaced devices"
    );
    let read = pick(handles, 1).get(device.id).await.unwrap();
    assert_eq!(
        read.as_ref(),
        Some(&device),
        "conformance (SPEC §2, device record): get must return every field as written ({STORE_VS_RULE})"
    );
    let shared = pick(handles, 1).get_shared(device.id).await.unwrap();
    assert_eq!(
        shared.as_deref(),
        Some(&device),
        "conformance (SPEC §2, device record): get_shared must return what get returns ({STORE_VS_RULE})"
    );
    let unknown = DeviceId::generate(base_time(), &crate::random::OsRandom);
    let missing = repo.get_shared(unknown).await.unwrap();
    assert!(
        missing.is_none(),
        "conformance (SPEC §2, device record): get_shared of an unknown id must be None"
    );
    let listed = repo.list(&user).await.unwrap();
    assert_eq!(
        listed,
        vec![device],
        "conformance (SPEC §2, device record): list must return every field as written ({STORE_VS_RULE})"
    );
}

/// `list` returns the user's devices only, every field as written, in any order (the
/// service orders a listing).
pub async fn list_is_per_user_and_complete(handles: &Handles) {
    let repo = pick(handles, 0);
    let (alice, bob) = (unique_user("list-a"), unique_user("list-b"));
    let base = base_time();
    let mut expected = Vec::new();
    for minutes in [30, 10, 20, 110, 50, 90, 0, 70, 100, 40, 60, 60] {
        let device = sample_device(&alice, base + TimeDelta::minutes(minutes));
        repo.create(device.clone(), DeviceLimit::NONE)
            .await
            .unwrap();
        expected.push(device);
    }
    repo.create(sample_device(&bob, base), DeviceLimit::NONE)
        .await
        .unwrap();
    expected.sort_by_key(|d| d.id);
    let mut listed = repo.list(&alice).await.unwrap();
    listed.sort_by_key(|d| d.id);
    assert_eq!(
        listed, expected,
        "conformance (list): every field as written ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.list(&bob).await.unwrap().len(),
        1,
        "conformance (list): users are isolated ({STORE_VS_RULE})"
    );
    assert!(
        repo.list(&unique_user("nobody")).await.unwrap().is_empty(),
        "conformance (list): an unknown user has no device"
    );
}

/// Update and delete with another user's id find nothing and change nothing.
pub async fn other_users_devices_are_out_of_reach(handles: &Handles) {
    let repo = pick(handles, 0);
    let (owner, intruder) = (unique_user("owner"), unique_user("intruder"));
    let device = sample_device(&owner, base_time());
    repo.create(device.clone(), DeviceLimit::NONE)
        .await
        .unwrap();
    let patch = DevicePatch {
        name: Some(DeviceName::new("stolen").unwrap()),
        ..DevicePatch::default()
    };
    let rule = "conformance (rule A, another user's device): out of reach";
    assert_eq!(
        repo.update(&intruder, device.id, &patch).await.unwrap(),
        None,
        "{rule}: update ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.delete(&intruder, device.id).await.unwrap(),
        None,
        "{rule}: delete ({STORE_VS_RULE})"
    );
    assert!(
        repo.delete_others(&intruder, device.id)
            .await
            .unwrap()
            .is_empty(),
        "{rule}: delete_others"
    );
    assert!(
        repo.delete_all(&intruder).await.unwrap().is_empty(),
        "{rule}: delete_all"
    );
    assert_eq!(
        repo.get(device.id).await.unwrap(),
        Some(device),
        "conformance (rule A, another user's device): another user's calls must leave the device as it was ({STORE_VS_RULE})"
    );
}

/// A patch changes its `Some` fields and nothing else.
pub async fn update_applies_only_the_given_fields(handles: &Handles) {
    let repo = pick(handles, 0);
    let user = unique_user("update");
    let device = sample_device(&user, base_time());
    repo.create(device.clone(), DeviceLimit::NONE)
        .await
        .unwrap();
    let rename = DevicePatch {
        name: Some(DeviceName::new("Renamed").unwrap()),
        ..DevicePatch::default()
    };
    let mut expected = device.clone();
    expected.apply(&rename);
    let updated = pick(handles, 1)
        .update(&user, device.id, &rename)
        .await
        .unwrap();
    assert_eq!(
        updated.as_ref(),
        Some(&expected),
        "conformance (rule A, update): rename ({STORE_VS_RULE})"
    );
    let flags = DevicePatch {
        can_delete_other_devices: Some(false),
        can_update_other_devices: Some(true),
        ..DevicePatch::default()
    };
    expected.apply(&flags);
    let updated = repo.update(&user, device.id, &flags).await.unwrap();
    assert_eq!(
        updated.as_ref(),
        Some(&expected),
        "conformance (rule A, update): permission flags ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.get(device.id).await.unwrap(),
        Some(expected),
        "conformance (rule A, update): the change is stored ({STORE_VS_RULE})"
    );
}

/// `record_seen` writes only when the stored `last_seen_at` is at or before the
/// sighting's `stale_before`.
pub async fn record_seen_is_throttled(handles: &Handles) {
    let repo = pick(handles, 0);
    let user = unique_user("seen");
    let base = base_time();
    let device = sample_device(&user, base);
    repo.create(device.clone(), DeviceLimit::NONE)
        .await
        .unwrap();
    let ip = "198.51.100.9".parse().ok();
    let at = base + TimeDelta::minutes(1);
    let too_soon = Sighting {
        at,
        ip,
        stale_before: base - TimeDelta::microseconds(1),
    };
    repo.record_seen(device.id, too_soon).await.unwrap();
    let read = repo.get(device.id).await.unwrap().unwrap();
    assert_eq!(
        read.last_seen_at, base,
        "conformance (SPEC §2, touch_interval): a fresh sighting must not be rewritten ({STORE_VS_RULE})"
    );
    assert_eq!(
        read.last_ip, device.last_ip,
        "conformance (SPEC §2, touch_interval): last_ip follows last_seen_at ({STORE_VS_RULE})"
    );
    let due = Sighting {
        stale_before: base,
        ..too_soon
    };
    repo.record_seen(device.id, due).await.unwrap();
    let read = repo.get(device.id).await.unwrap().unwrap();
    assert_eq!(
        read.last_seen_at, at,
        "conformance (SPEC §2, touch_interval): stale_before is inclusive ({STORE_VS_RULE})"
    );
    assert_eq!(
        read.last_ip, ip,
        "conformance (SPEC §2, touch_interval): last_ip is written with last_seen_at ({STORE_VS_RULE})"
    );
    let unknown_ip = Sighting {
        at: at + TimeDelta::minutes(10),
        ip: None,
        stale_before: at,
    };
    repo.record_seen(device.id, unknown_ip).await.unwrap();
    let read = repo.get(device.id).await.unwrap().unwrap();
    assert_eq!(
        read.last_seen_at, unknown_ip.at,
        "conformance (SPEC §2, touch_interval): a sighting without an address ({STORE_VS_RULE})"
    );
    assert_eq!(
        read.last_ip, ip,
        "conformance (SPEC §2, touch_interval): an unknown address keeps the last one ({STORE_VS_RULE})"
    );
}

/// `extend_idle` always moves the idle deadline, records the sighting only when due, and
/// is `None` for a missing device.
pub async fn extend_idle_moves_the_deadline(handles: &Handles) {
    let repo = pick(handles, 0);
    let user = unique_user("extend");
    let base = base_time();
    let device = sample_device(&user, base);
    repo.create(device.clone(), DeviceLimit::NONE)
        .await
        .unwrap();
    let at = base + TimeDelta::minutes(1);
    let deadline = at + TimeDelta::days(30);
    let not_due = Sighting {
        at,
        ip: None,
        stale_before: base - TimeDelta::microseconds(1),
    };
    let extended = repo
        .extend_idle(device.id, not_due, IdleExtension::of(&device, deadline))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        extended.idle_expires_at, deadline,
        "conformance (rule R, idle deadline): the idle deadline moves ({STORE_VS_RULE})"
    );
    assert_eq!(
        extended.last_seen_at, base,
        "conformance (rule R, idle deadline): a sighting inside touch_interval ({STORE_VS_RULE})"
    );
    let later = at + TimeDelta::days(1);
    let due = Sighting {
        at: later,
        ip: None,
        stale_before: base,
    };
    let extended = repo
        .extend_idle(
            device.id,
            due,
            IdleExtension::of(&device, later + TimeDelta::days(30)),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        extended.idle_expires_at,
        later + TimeDelta::days(30),
        "conformance (rule R, idle deadline): extended ({STORE_VS_RULE})"
    );
    assert_eq!(
        extended.last_seen_at, later,
        "conformance (rule R, idle deadline): seen when extended ({STORE_VS_RULE})"
    );
    assert_eq!(
        extended.session_expires_at, device.session_expires_at,
        "conformance (rule R, idle deadline): the absolute deadline never moves ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.get(device.id).await.unwrap(),
        Some(extended),
        "conformance (rule R, idle deadline): stored ({STORE_VS_RULE})"
    );
    let gone = sample_device(&user, base);
    assert_eq!(
        repo.extend_idle(gone.id, due, IdleExtension::of(&gone, deadline))
            .await
            .unwrap(),
        None,
        "conformance (rule R, idle deadline): a missing device is not extended ({STORE_VS_RULE})"
    );
    // Past its absolute end, the session ends there: the written deadline is what cleanup
    // reads, so the device goes at the session's end and not a microsecond before.
    let end = device.session_expires_at.unwrap();
    let beyond = IdleExtension::of(&device, end + TimeDelta::days(30));
    repo.extend_idle(device.id, due, beyond).await.unwrap();
    let batch = NonZeroU32::new(1000).unwrap();
    let early = repo
        .delete_expired(end - TimeDelta::microseconds(1), batch)
        .await
        .unwrap();
    assert!(
        early.iter().all(|gone| gone.id != device.id),
        "conformance (rule C, written deadline): removed before the session's end"
    );
    let at_end = repo.delete_expired(end, batch).await.unwrap();
    assert!(
        at_end.iter().any(|gone| gone.id == device.id),
        "conformance (rule C, written deadline): kept past the session's end"
    );
}

/// delete, delete_others and delete_all remove exactly what they name and return it.
pub async fn deletes_remove_exactly_their_devices(handles: &Handles) {
    let repo = pick(handles, 0);
    let user = unique_user("delete");
    let base = base_time();
    let devices: Vec<_> = (0..4)
        .map(|i| sample_device(&user, base + TimeDelta::seconds(i)))
        .collect();
    for device in &devices {
        repo.create(device.clone(), DeviceLimit::NONE)
            .await
            .unwrap();
    }
    let [first, second, third, fourth] = [0, 1, 2, 3].map(|i| devices[i].clone());
    assert_eq!(
        repo.delete(&user, first.id).await.unwrap(),
        Some(first.clone()),
        "conformance (rule A, revocation): delete returns the device ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.delete(&user, first.id).await.unwrap(),
        None,
        "conformance (rule A, revocation): deleted twice ({STORE_VS_RULE})"
    );
    let mut others = repo.delete_others(&user, second.id).await.unwrap();
    others.sort_by_key(|d| d.created_at);
    assert_eq!(
        others,
        vec![third, fourth],
        "conformance (rule A, revocation): delete_others ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.list(&user).await.unwrap(),
        vec![second.clone()],
        "conformance (rule A, revocation): delete_others keeps the acting device ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.delete_all(&user).await.unwrap(),
        vec![second],
        "conformance (rule U): delete_all returns what it removed ({STORE_VS_RULE})"
    );
    assert!(
        repo.list(&user).await.unwrap().is_empty(),
        "conformance (rule U): delete_all leaves nothing"
    );
}

/// Rule L: with `Reject`, 50 concurrent logins leave exactly `max` devices.
pub async fn rule_l_reject_limit_holds_under_concurrent_logins(handles: &Handles) {
    let user = unique_user("reject");
    let outcomes = concurrent_creates(handles, &user, limit(3, Eviction::Reject)).await;
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(CreateOutcome::Created { displaced }) if displaced.is_empty()))
        .count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(CreateOutcome::LimitReached)))
        .count();
    let failed = CONCURRENT_TASKS - created - refused;
    assert!(
        (created, refused) == (3, CONCURRENT_TASKS - 3),
        "conformance (rule L, max_devices = 3, eviction Reject): {CONCURRENT_TASKS} logins \
         of one user at once, from several handles; the store created {created} devices, \
         refused {refused} with LimitReached and failed {failed}. The rule requires exactly \
         3 created and {} refused: the count and the insert must be one atomic step (a \
         transaction with a per-user lock, or one script), or concurrent logins all see room.",
        CONCURRENT_TASKS - 3
    );
    let held = pick(handles, 0).list(&user).await.unwrap().len();
    assert!(
        held == 3,
        "conformance (rule L, max_devices = 3): after the concurrent logins the user holds \
         {held} devices; the limit allows 3."
    );
}

/// Rule L: every case of [`RULE_L_CASES`], the table that also checks the core's
/// `DeviceLimit::admission`: a store that decides inside its own atomic step (a script)
/// must agree with the core on each. Devices are created one second apart and last seen in
/// the reverse order, so evicting the oldest and the least recently used differ.
pub async fn rule_l_every_case_of_the_shared_table(handles: &Handles) {
    for (index, case) in RULE_L_CASES.iter().enumerate() {
        let repo = pick(handles, index);
        let user = unique_user("rule-l-table");
        let base = base_time();
        let mut held = Vec::new();
        for i in 0..case.held {
            let offset = i64::try_from(i).unwrap();
            let mut device = sample_device(&user, base + TimeDelta::seconds(offset));
            device.last_seen_at = base + TimeDelta::seconds(100 - offset);
            repo.create(device.clone(), DeviceLimit::NONE)
                .await
                .unwrap();
            held.push(device);
        }
        let newcomer = sample_device(&user, base + TimeDelta::seconds(200));
        let outcome = repo.create(newcomer, case.limit).await.unwrap();
        let mut expected_gone: Vec<_> = match case.expected {
            Admission::Admit | Admission::Reject => Vec::new(),
            Admission::ReplaceAll => held.clone(),
            Admission::Evict { count, order } => {
                let mut ordered = held.clone();
                order.sort(&mut ordered);
                ordered.into_iter().take(count).collect()
            }
        };
        let remaining = repo.list(&user).await.unwrap().len();
        if case.expected == Admission::Reject {
            assert_eq!(
                outcome,
                CreateOutcome::LimitReached,
                "conformance (rule L): with {} devices held and {:?}, a login must be refused \
                 with LimitReached; the store answered otherwise (left: the store, right: \
                 the rule)",
                case.held,
                case.limit
            );
            assert_eq!(
                remaining, case.held,
                "conformance (rule L): a refused login must write nothing; the user held {} \
                 devices before and {remaining} after (left: after, right: before)",
                case.held
            );
            continue;
        }
        let mut gone = created(outcome);
        gone.sort_by_key(|device| device.id);
        expected_gone.sort_by_key(|device| device.id);
        let ids = |devices: &[crate::domain::Device]| -> Vec<_> {
            devices.iter().map(|device| device.id).collect()
        };
        assert_eq!(
            ids(&gone),
            ids(&expected_gone),
            "conformance (rule L): with {} devices held and {:?}, the login must displace \
             exactly the devices the rule names ({:?}: created one second apart, last seen \
             in the reverse order); left: the ids the store displaced, right: the rule's",
            case.held,
            case.limit,
            case.expected
        );
        assert_eq!(
            remaining,
            case.held - expected_gone.len() + 1,
            "conformance (rule L): after a login with {} devices held and {:?}, the user \
             must hold the survivors and the new device (left: what the store holds, \
             right: the rule)",
            case.held,
            case.limit
        );
    }
}

/// Rule L: `EvictLeastRecentlyUsed` removes the device seen longest ago.
pub async fn rule_l_eviction_picks_least_recently_used(handles: &Handles) {
    let repo = pick(handles, 0);
    let user = unique_user("lru");
    let base = base_time();
    let mut devices = Vec::new();
    for (created, seen) in [(0, 50), (1, 10), (2, 30)] {
        let mut device = sample_device(&user, base + TimeDelta::seconds(created));
        device.last_seen_at = base + TimeDelta::seconds(seen);
        repo.create(device.clone(), DeviceLimit::NONE)
            .await
            .unwrap();
        devices.push(device);
    }
    let newcomer = sample_device(&user, base + TimeDelta::seconds(60));
    let displaced = created(
        repo.create(newcomer, limit(3, Eviction::EvictLeastRecentlyUsed))
            .await
            .unwrap(),
    );
    assert_eq!(
        displaced,
        vec![devices[1].clone()],
        "rule L: least recently used goes first ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.list(&user).await.unwrap().len(),
        3,
        "rule L: eviction keeps max_devices ({STORE_VS_RULE})"
    );
}

/// Rule L: `EvictOldest` removes the device created first, and enough of them to fit.
pub async fn rule_l_eviction_picks_oldest(handles: &Handles) {
    let repo = pick(handles, 0);
    let user = unique_user("oldest");
    let base = base_time();
    let mut devices = Vec::new();
    for created in [20, 0, 10] {
        let mut device = sample_device(&user, base + TimeDelta::seconds(created));
        device.last_seen_at = base + TimeDelta::seconds(100 - created);
        repo.create(device.clone(), DeviceLimit::NONE)
            .await
            .unwrap();
        devices.push(device);
    }
    let newcomer = sample_device(&user, base + TimeDelta::seconds(60));
    let displaced = created(
        repo.create(newcomer, limit(2, Eviction::EvictOldest))
            .await
            .unwrap(),
    );
    assert_eq!(
        displaced,
        vec![devices[1].clone(), devices[2].clone()],
        "rule L: oldest go first, as many as needed to fit ({STORE_VS_RULE})"
    );
    assert_eq!(
        repo.list(&user).await.unwrap().len(),
        2,
        "rule L: eviction keeps max_devices ({STORE_VS_RULE})"
    );
}

/// Rule L: with eviction, 50 concurrent logins all succeed and leave exactly `max` devices.
pub async fn rule_l_eviction_limit_holds_under_concurrent_logins(handles: &Handles) {
    let user = unique_user("evict-race");
    let outcomes = concurrent_creates(handles, &user, limit(3, Eviction::EvictOldest)).await;
    let displaced: usize = outcomes
        .into_iter()
        .map(|o| created(o.unwrap()).len())
        .sum();
    assert_eq!(
        displaced,
        CONCURRENT_TASKS - 3,
        "rule L: every eviction is reported once ({STORE_VS_RULE})"
    );
    assert_eq!(
        pick(handles, 0).list(&user).await.unwrap().len(),
        3,
        "rule L: max_devices exceeded ({STORE_VS_RULE})"
    );
}

/// Rule L: single login under 50 concurrent logins leaves exactly one device.
pub async fn rule_l_single_login_leaves_one_device_under_concurrent_logins(handles: &Handles) {
    let user = unique_user("single");
    let single = DeviceLimit {
        single_login: true,
        ..DeviceLimit::NONE
    };
    let outcomes = concurrent_creates(handles, &user, single).await;
    let displaced: usize = outcomes
        .into_iter()
        .map(|o| created(o.unwrap()).len())
        .sum();
    assert_eq!(
        displaced,
        CONCURRENT_TASKS - 1,
        "rule L: single login displaces every other ({STORE_VS_RULE})"
    );
    assert_eq!(
        pick(handles, 0).list(&user).await.unwrap().len(),
        1,
        "rule L: single login ({STORE_VS_RULE})"
    );
}

/// Rule C: expired devices (idle or absolute deadline at or before `now`) go in batches;
/// live ones stay.
pub async fn rule_c_delete_expired_works_in_batches_at_the_boundary(handles: &Handles) {
    let repo = pick(handles, 0);
    let user = unique_user("cleanup");
    let now = expiry_base_time();
    let mut expired = Vec::new();
    for i in 0..5 {
        let mut device = sample_device(&user, now - TimeDelta::days(40));
        device.idle_expires_at = now - TimeDelta::seconds(i);
        device.session_expires_at = None;
        expired.push(device);
    }
    let mut by_session = sample_device(&user, now - TimeDelta::days(10));
    by_session.session_expires_at = Some(now);
    expired.push(by_session);
    let mut live = sample_device(&user, now - TimeDelta::days(1));
    live.idle_expires_at = now + TimeDelta::microseconds(1);
    live.session_expires_at = Some(now + TimeDelta::days(1));
    for device in expired.iter().chain([&live]) {
        repo.create(device.clone(), DeviceLimit::NONE)
            .await
            .unwrap();
    }

    let batch = NonZeroU32::new(2).unwrap();
    let mut removed = Vec::new();
    loop {
        let round = pick(handles, removed.len())
            .delete_expired(now, batch)
            .await
            .unwrap();
        assert!(
            round.len() <= 2,
            "rule C: a batch removed more than its size"
        );
        let done = round.len() < 2;
        removed.extend(round);
        if done {
            break;
        }
    }
    for device in &expired {
        assert!(
            removed.iter().any(|r| r.id == device.id),
            "rule C: a device at or past its deadline was not removed"
        );
    }
    assert!(
        removed.iter().all(|r| r.id != live.id),
        "rule C: a live device was removed"
    );
    assert_eq!(
        repo.list(&user).await.unwrap(),
        vec![live],
        "rule C: what remains ({STORE_VS_RULE})"
    );
    repo.delete_all(&user).await.unwrap();
}
