//! Rule A: which device may delete or change which. The full table, first on the pure
//! policy functions, then through the service.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::Fixture;
use trusted_devices_core::testing::{sample_device, unique_user};
use trusted_devices_core::{Device, DeviceName, DevicePatch, Error, Policy};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

/// Two devices of one user: the acting one created `age` ago, the target long before.
fn pair(age: TimeDelta) -> (Device, Device) {
    let user = unique_user("rule-a");
    let mut acting = sample_device(&user, now() - age);
    acting.can_delete_other_devices = true;
    acting.can_update_other_devices = true;
    let target = sample_device(&user, now() - TimeDelta::days(365));
    (acting, target)
}

fn rename() -> DevicePatch {
    DevicePatch {
        name: Some(DeviceName::new("Renamed").unwrap()),
        ..DevicePatch::default()
    }
}

fn policy() -> Policy {
    Policy::default() // delete_delay 24 h, update_delay 1 h
}

#[test]
fn rule_a_delete_needs_the_acting_device_older_than_delete_delay() {
    let (young, target) = pair(TimeDelta::hours(1));
    assert!(matches!(
        policy().check_delete(&young, &target, now()),
        Err(Error::DeleteTooSoon {
            retry_after: 82_800
        })
    ));
    let (barely, target) = pair(TimeDelta::hours(24) - TimeDelta::milliseconds(1));
    assert!(
        matches!(
            policy().check_delete(&barely, &target, now()),
            Err(Error::DeleteTooSoon { retry_after: 1 })
        ),
        "retry_after rounds up"
    );
    let (exact, target) = pair(TimeDelta::hours(24));
    assert!(policy().check_delete(&exact, &target, now()).is_ok());
    let (old, target) = pair(TimeDelta::days(3));
    assert!(policy().check_delete(&old, &target, now()).is_ok());
}

#[test]
fn rule_a_update_needs_the_acting_device_older_than_update_delay() {
    let (young, target) = pair(TimeDelta::minutes(20));
    assert!(matches!(
        policy().check_update(&young, &target, &rename(), now()),
        Err(Error::UpdateTooSoon { retry_after: 2_400 })
    ));
    let (old, target) = pair(TimeDelta::hours(1));
    assert!(
        policy()
            .check_update(&old, &target, &rename(), now())
            .is_ok()
    );
}

#[test]
fn rule_a_the_owners_older_device_removes_a_newcomer_at_once() {
    let user = unique_user("rule-a");
    let owner = sample_device(&user, now() - TimeDelta::days(30));
    let newcomer = sample_device(&user, now());
    let mut owner = owner;
    owner.can_delete_other_devices = true;
    assert!(policy().check_delete(&owner, &newcomer, now()).is_ok());
    assert!(policy().check_delete(&newcomer, &owner, now()).is_err());
}

#[test]
fn rule_a_global_switches_off_refuse_every_other_target() {
    let (old, target) = pair(TimeDelta::days(3));
    let no_delete = Policy::builder()
        .allow_global_delete(false)
        .build()
        .unwrap();
    assert!(matches!(
        no_delete.check_delete(&old, &target, now()),
        Err(Error::GlobalDeleteDisabled)
    ));
    assert!(matches!(
        no_delete.check_revoke_others(&old, now()),
        Err(Error::GlobalDeleteDisabled)
    ));
    let no_update = Policy::builder()
        .allow_global_update(false)
        .build()
        .unwrap();
    assert!(matches!(
        no_update.check_update(&old, &target, &rename(), now()),
        Err(Error::GlobalUpdateDisabled)
    ));
}

#[test]
fn rule_a_each_missing_permission_flag_is_permission_denied() {
    let (mut old, target) = pair(TimeDelta::days(3));
    old.can_delete_other_devices = false;
    assert!(matches!(
        policy().check_delete(&old, &target, now()),
        Err(Error::PermissionDenied)
    ));
    assert!(matches!(
        policy().check_revoke_others(&old, now()),
        Err(Error::PermissionDenied)
    ));
    assert!(
        policy()
            .check_update(&old, &target, &rename(), now())
            .is_ok(),
        "update flag still held"
    );
    let (mut old, target) = pair(TimeDelta::days(3));
    old.can_update_other_devices = false;
    assert!(matches!(
        policy().check_update(&old, &target, &rename(), now()),
        Err(Error::PermissionDenied)
    ));
    assert!(
        policy().check_delete(&old, &target, now()).is_ok(),
        "delete flag still held"
    );
}

#[test]
fn rule_a_a_device_may_always_rename_and_log_out_itself() {
    let (mut fresh, _) = pair(TimeDelta::zero());
    fresh.can_delete_other_devices = false;
    fresh.can_update_other_devices = false;
    let locked = Policy::builder()
        .allow_global_delete(false)
        .allow_global_update(false)
        .build()
        .unwrap();
    assert!(
        locked
            .check_update(&fresh, &fresh, &rename(), now())
            .is_ok(),
        "self-rename"
    );
    assert!(
        locked.check_delete(&fresh, &fresh, now()).is_ok(),
        "self-logout"
    );
    let drop_own = DevicePatch {
        can_delete_other_devices: Some(false),
        ..DevicePatch::default()
    };
    assert!(
        locked
            .check_update(&fresh, &fresh, &drop_own, now())
            .is_ok(),
        "dropping a flag is no grant"
    );
}

#[test]
fn rule_a_no_device_grants_a_flag_it_does_not_hold() {
    let (mut old, target) = pair(TimeDelta::days(3));
    old.can_delete_other_devices = false;
    let grant_delete = DevicePatch {
        can_delete_other_devices: Some(true),
        ..DevicePatch::default()
    };
    assert!(
        matches!(
            policy().check_update(&old, &target, &grant_delete, now()),
            Err(Error::PermissionDenied)
        ),
        "to another device"
    );
    assert!(
        matches!(
            policy().check_update(&old, &old, &grant_delete, now()),
            Err(Error::PermissionDenied)
        ),
        "to itself"
    );
    let (old, target) = pair(TimeDelta::days(3));
    let grant_both = DevicePatch {
        can_delete_other_devices: Some(true),
        can_update_other_devices: Some(true),
        ..DevicePatch::default()
    };
    assert!(
        policy()
            .check_update(&old, &target, &grant_both, now())
            .is_ok(),
        "flags it holds"
    );
}

fn strip_owner_flags() -> DevicePatch {
    DevicePatch {
        can_delete_other_devices: Some(false),
        can_update_other_devices: Some(false),
        ..DevicePatch::default()
    }
}

#[test]
fn rule_a_flag_stripping_needs_the_delete_conditions_too() {
    // Old enough to update (1 h) but not to delete (24 h): a rename passes, yet taking the
    // owner's flags away would open what the 24 h protects, so it waits for the delete delay.
    let (newcomer, owner) = pair(TimeDelta::hours(2));
    assert!(
        policy()
            .check_update(&newcomer, &owner, &rename(), now())
            .is_ok()
    );
    assert!(matches!(
        policy().check_update(&newcomer, &owner, &strip_owner_flags(), now()),
        Err(Error::DeleteTooSoon {
            retry_after: 79_200
        })
    ));
    let only_one_flag = DevicePatch {
        can_update_other_devices: Some(false),
        ..DevicePatch::default()
    };
    assert!(
        matches!(
            policy().check_update(&newcomer, &owner, &only_one_flag, now()),
            Err(Error::DeleteTooSoon { .. })
        ),
        "either flag counts"
    );
    let (grown, owner) = pair(TimeDelta::hours(24));
    assert!(
        policy()
            .check_update(&grown, &owner, &strip_owner_flags(), now())
            .is_ok()
    );
}

#[test]
fn rule_a_flag_change_too_soon_carries_the_longer_wait() {
    // 20 minutes old: 40 minutes to the update delay, 23 h 40 min to the delete delay.
    let (young, owner) = pair(TimeDelta::minutes(20));
    assert!(matches!(
        policy().check_update(&young, &owner, &strip_owner_flags(), now()),
        Err(Error::DeleteTooSoon {
            retry_after: 85_200
        })
    ));
    // With the update delay the longer one, its wait is the answer.
    let slow_updates = Policy::builder()
        .update_delay(std::time::Duration::from_secs(48 * 3600))
        .build()
        .unwrap();
    assert!(matches!(
        slow_updates.check_update(&young, &owner, &strip_owner_flags(), now()),
        Err(Error::UpdateTooSoon {
            retry_after: 171_600
        })
    ));
}

#[test]
fn rule_a_flag_change_needs_the_delete_switch_and_flag() {
    let (mut old, owner) = pair(TimeDelta::days(3));
    old.can_delete_other_devices = false;
    assert!(
        policy()
            .check_update(&old, &owner, &rename(), now())
            .is_ok()
    );
    assert!(matches!(
        policy().check_update(&old, &owner, &strip_owner_flags(), now()),
        Err(Error::PermissionDenied)
    ));
    let (old, owner) = pair(TimeDelta::days(3));
    let no_delete = Policy::builder()
        .allow_global_delete(false)
        .build()
        .unwrap();
    assert!(matches!(
        no_delete.check_update(&old, &owner, &strip_owner_flags(), now()),
        Err(Error::GlobalDeleteDisabled)
    ));
    assert!(
        no_delete
            .check_update(&old, &old, &strip_owner_flags(), now())
            .is_ok(),
        "a device may still drop its own flags"
    );
}

#[tokio::test]
async fn rule_a_through_the_service_a_new_device_cannot_remove_older_ones() {
    let f = Fixture::defaults();
    let owner = f.login("alice").await;
    f.advance(TimeDelta::days(2));
    let thief = f.login("alice").await;
    let thief_acting = f.acting(&thief).await;
    let refused = f.service.delete(&thief_acting, owner.device.id).await;
    assert!(matches!(
        refused,
        Err(Error::DeleteTooSoon {
            retry_after: 86_400
        })
    ));
    assert!(
        matches!(
            f.service.revoke_others(&thief_acting).await,
            Err(Error::DeleteTooSoon { .. })
        ),
        "rule A: revoke_others follows the delete rule"
    );
    let renamed = f
        .service
        .update(&thief_acting, owner.device.id, &rename())
        .await;
    assert!(matches!(
        renamed,
        Err(Error::UpdateTooSoon { retry_after: 3_600 })
    ));
    // The owner's access token expired meanwhile: it refreshes, then removes the newcomer.
    let owner_pair = f
        .service
        .refresh(owner.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    let owner_acting = f
        .service
        .authenticate(&owner_pair.access_token, None)
        .await
        .unwrap();
    f.service
        .delete(&owner_acting, thief.device.id)
        .await
        .unwrap();
    assert!(matches!(
        f.service
            .authenticate(&thief.tokens.access_token, None)
            .await,
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test]
async fn rule_a_through_the_service_self_rename_and_logout() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let acting = f.acting(&login).await;
    let renamed = f
        .service
        .update(&acting, login.device.id, &rename())
        .await
        .unwrap();
    assert_eq!(renamed.name.as_str(), "Renamed");
    f.service.logout(&acting).await.unwrap();
    assert!(f.service.list(&acting).await.unwrap().is_empty());
}

#[tokio::test]
async fn rule_a_another_users_device_is_not_found() {
    let f = Fixture::new(
        Policy::builder()
            .delete_delay(std::time::Duration::ZERO)
            .update_delay(std::time::Duration::ZERO),
    );
    let alice = f.login("alice").await;
    let bob = f.login("bob").await;
    let acting = f.acting(&alice).await;
    let target = bob.device.id;
    assert!(matches!(
        f.service.get(&acting, target).await,
        Err(Error::DeviceNotFound)
    ));
    assert!(matches!(
        f.service.update(&acting, target, &rename()).await,
        Err(Error::DeviceNotFound)
    ));
    assert!(matches!(
        f.service.delete(&acting, target).await,
        Err(Error::DeviceNotFound)
    ));
    assert!(
        f.service
            .authenticate(&bob.tokens.access_token, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn rule_a_revoke_others_revokes_every_other_device_of_the_user() {
    let f = Fixture::new(Policy::builder().delete_delay(std::time::Duration::ZERO));
    let keep = f.login("alice").await;
    let others = [f.login("alice").await, f.login("alice").await];
    let bob = f.login("bob").await;
    let revoked = f
        .service
        .revoke_others(&f.acting(&keep).await)
        .await
        .unwrap();
    assert_eq!(revoked, 2);
    for other in &others {
        assert!(
            f.service
                .refresh(other.tokens.refresh_token.expose(), None)
                .await
                .is_err()
        );
    }
    assert!(
        f.service
            .authenticate(&keep.tokens.access_token, None)
            .await
            .is_ok()
    );
    assert!(
        f.service
            .authenticate(&bob.tokens.access_token, None)
            .await
            .is_ok()
    );
}
