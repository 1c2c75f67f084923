//! Rule U: the application revokes every device of a user, or every one but one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Fixture, RecordingHook};
use trusted_devices_core::{Error, Event, Policy, RevokeReason, UserId};

#[tokio::test]
async fn rule_u_revoke_all_keeps_only_the_named_device_and_needs_no_device_age() {
    let f = Fixture::with_hook(Policy::builder(), RecordingHook::default());
    let (first, second, third) = (
        f.login("alice").await,
        f.login("alice").await,
        f.login("alice").await,
    );
    let bob = f.login("bob").await;
    f.hook.take();
    // Every device is seconds old: rule A would refuse any of them acting on another.
    let alice = UserId::new("alice").unwrap();
    let revoked = f
        .service
        .revoke_all_because(&alice, Some(second.device.id), "password_changed")
        .await
        .unwrap();
    assert_eq!(revoked, 2);
    for gone in [&first, &third] {
        let refused = f
            .service
            .authenticate(&gone.tokens.access_token, None)
            .await;
        assert!(matches!(refused, Err(Error::DeviceRevoked)), "{refused:?}");
        let refresh = f
            .service
            .refresh(gone.tokens.refresh_token.expose(), None)
            .await;
        assert!(refresh.is_err(), "its refresh token went too");
    }
    assert!(
        f.service
            .authenticate(&second.tokens.access_token, None)
            .await
            .is_ok()
    );
    assert!(
        f.service
            .authenticate(&bob.tokens.access_token, None)
            .await
            .is_ok(),
        "another user is untouched"
    );
    let reasons: Vec<RevokeReason> = f
        .hook
        .take()
        .into_iter()
        .filter_map(|event| match event {
            Event::DeviceRevoked { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            RevokeReason::RevokedByApplication {
                reason: "password_changed"
            };
            2
        ]
    );
}

#[tokio::test]
async fn rule_u_revoke_all_without_keep_ends_every_session() {
    let f = Fixture::defaults();
    let (one, two) = (f.login("alice").await, f.login("alice").await);
    let alice = UserId::new("alice").unwrap();
    let revoked = f.service.revoke_all(&alice, None).await.unwrap();
    assert_eq!(revoked, 2);
    for gone in [&one, &two] {
        assert!(
            f.service
                .authenticate(&gone.tokens.access_token, None)
                .await
                .is_err()
        );
    }
    assert_eq!(f.service.revoke_all(&alice, None).await.unwrap(), 0);
}
