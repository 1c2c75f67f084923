//! SPEC §8 in the service: tokens bound to their transport, and cookie sessions that stay
//! alive without script.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use chrono::TimeDelta;
use common::Fixture;
use trusted_devices_core::LoginRequest;
use trusted_devices_core::Presented;
use trusted_devices_core::{DeviceInfo, Error, Policy, Transport, UserId};

async fn cookie_login(f: &Fixture) -> trusted_devices_core::LoginOutcome {
    f.service
        .login(
            UserId::new("alice").unwrap(),
            LoginRequest::new(DeviceInfo::new()).transport(Transport::Cookie),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn section_8_transports_are_kept_apart_for_access_tokens() {
    let f = Fixture::defaults();
    let cookie = cookie_login(&f).await;
    let bearer = f.login("alice").await;
    let as_header = f
        .service
        .authenticate(&cookie.tokens.access_token, None)
        .await;
    assert!(
        matches!(as_header, Err(Error::TokenInvalid)),
        "{as_header:?}"
    );
    let as_cookie = f
        .service
        .authenticate(Presented::cookie(&bearer.tokens.access_token), None)
        .await;
    assert!(
        matches!(as_cookie, Err(Error::TokenInvalid)),
        "{as_cookie:?}"
    );
    let acting = f
        .service
        .authenticate(Presented::cookie(&cookie.tokens.access_token), None)
        .await
        .unwrap();
    assert_eq!(acting.device.id, cookie.device.id);
    assert!(
        f.service
            .authenticate(&bearer.tokens.access_token, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn section_8_transports_are_kept_apart_for_refresh_tokens() {
    let f = Fixture::defaults();
    let cookie = cookie_login(&f).await;
    let text = cookie.tokens.refresh_token.expose().to_owned();
    let in_body = f.service.refresh(&text, None).await;
    assert!(
        matches!(in_body, Err(Error::RefreshTokenInvalid)),
        "{in_body:?}"
    );
    let renewed = f
        .service
        .refresh(Presented::new(&text, Transport::Cookie), None)
        .await
        .unwrap();
    assert_eq!(renewed.refresh_token.transport(), Transport::Cookie);
    assert!(
        f.service
            .authenticate(Presented::cookie(&renewed.access_token), None)
            .await
            .is_ok(),
        "the successor pair travels as cookies too"
    );
    let bearer = f.login("alice").await;
    let as_cookie = f
        .service
        .refresh(
            Presented::new(bearer.tokens.refresh_token.expose(), Transport::Cookie),
            None,
        )
        .await;
    assert!(
        matches!(as_cookie, Err(Error::RefreshTokenInvalid)),
        "{as_cookie:?}"
    );
}

#[tokio::test]
async fn section_8_an_active_cookie_session_is_renewed_past_half_life() {
    let f = Fixture::new(
        Policy::builder().session_max_lifetime(Some(Duration::from_secs(3600 * 24 * 60))),
    );
    let login = cookie_login(&f).await;
    let access = login.tokens.access_token.clone();
    f.advance(TimeDelta::minutes(7));
    let early = f
        .service
        .authenticate(Presented::cookie(&access), None)
        .await
        .unwrap();
    assert!(early.renewal.is_none(), "not yet half of 15 minutes");
    f.advance(TimeDelta::minutes(1));
    let late = f
        .service
        .authenticate(Presented::cookie(&access), None)
        .await
        .unwrap();
    let renewal = late
        .renewal
        .expect("past half its life, a fresh token comes back");
    assert_eq!(renewal.expires_in, 15 * 60);
    assert_eq!(
        late.device.idle_expires_at,
        f.now() + TimeDelta::days(30),
        "the idle deadline moves as on a refresh"
    );
    assert_eq!(
        late.device.session_expires_at, login.device.session_expires_at,
        "the absolute deadline never moves"
    );
    let next = f
        .service
        .authenticate(Presented::cookie(&renewal.access_token), None)
        .await
        .unwrap();
    assert!(next.renewal.is_none());
    assert!(
        f.service
            .authenticate(&renewal.access_token, None)
            .await
            .is_err(),
        "a renewed cookie token is still a cookie token"
    );
}

#[tokio::test]
async fn section_8_a_revoked_devices_cookie_is_refused_on_its_next_request() {
    let f = Fixture::defaults();
    let login = cookie_login(&f).await;
    let acting = f
        .service
        .authenticate(Presented::cookie(&login.tokens.access_token), None)
        .await
        .unwrap();
    f.service.logout(&acting).await.unwrap();
    let after = f
        .service
        .authenticate(Presented::cookie(&login.tokens.access_token), None)
        .await;
    assert!(matches!(after, Err(Error::DeviceRevoked)), "{after:?}");
}
