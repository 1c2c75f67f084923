//! Rule V: verify answers whether an access token is valid now, with no side effect.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::TimeDelta;
use common::Fixture;
use trusted_devices_core::{Error, Policy};

#[tokio::test]
async fn rule_v_verify_reports_user_device_and_expiry() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let verified = f
        .service
        .verify(&login.tokens.access_token, None)
        .await
        .unwrap();
    assert_eq!(verified.device.user_id.as_str(), "alice");
    assert_eq!(verified.device.id, login.device.id);
    assert_eq!(verified.expires_at.timestamp(), f.now().timestamp() + 900);
}

#[tokio::test]
async fn rule_v_verify_has_no_side_effect() {
    let f = Fixture::new(Policy::builder().touch_interval(std::time::Duration::ZERO));
    let login = f.login("alice").await;
    f.advance(TimeDelta::minutes(1));
    f.service
        .verify(&login.tokens.access_token, None)
        .await
        .unwrap();
    let device = f
        .service
        .devices()
        .get(login.device.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(device, login.device, "verify wrote to the device");
    assert!(
        f.hook
            .take()
            .iter()
            .all(|e| matches!(e, trusted_devices_core::Event::DeviceCreated { .. }))
    );
}

#[tokio::test]
async fn rule_v_verify_refuses_revoked_and_expired_tokens() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    f.service.logout(&f.acting(&login).await).await.unwrap();
    assert!(matches!(
        f.service.verify(&login.tokens.access_token, None).await,
        Err(Error::DeviceRevoked)
    ));
    let other = f.login("alice").await;
    f.advance(TimeDelta::hours(1));
    assert!(matches!(
        f.service.verify(&other.tokens.access_token, None).await,
        Err(Error::TokenExpired)
    ));
}
