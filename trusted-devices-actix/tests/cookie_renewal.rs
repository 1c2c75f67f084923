//! SPEC §8 on an application's own route: a cookie request past half its access token's
//! life gets a fresh access cookie through `CurrentDevice` and the `write_renewals`
//! middleware, and the next request, with that cookie, is not renewed again (issue 23,
//! finding 8).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{COOKIE, SET_COOKIE};
use actix_web::middleware::from_fn;
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, web};
use chrono::TimeDelta;
use trusted_devices_actix::{CurrentDevice, Devices, write_renewals};
use trusted_devices_core::LoginRequest;
use trusted_devices_core::http::CookieSettings;
use trusted_devices_core::{
    DeviceInfo, KeyRing, ManualClock, SigningKey, Transport, TrustedDevices, UserId,
};

async fn me(CurrentDevice(acting): CurrentDevice) -> String {
    acting.device.user_id.to_string()
}

fn harness() -> (Devices, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let key = SigningKey::new("k1", &[9u8; 32]).unwrap();
    let service = TrustedDevices::builder(KeyRing::new(key))
        .clock(clock.clone())
        .build();
    let devices =
        Devices::new(service).cookies(CookieSettings::development(vec!["http://localhost".into()]));
    (devices, clock)
}

async fn cookie_login(devices: &Devices) -> String {
    let login = devices
        .service()
        .login(
            UserId::new("alice").unwrap(),
            LoginRequest::new(DeviceInfo::default()).transport(Transport::Cookie),
        )
        .await
        .unwrap();
    login.tokens.access_token.clone()
}

/// `GET /me` with the access cookie.
fn get_me(access: &str) -> TestRequest {
    TestRequest::get()
        .uri("/me")
        .insert_header((COOKIE, format!("td_access={access}")))
}

fn renewed_access<B>(response: &ServiceResponse<B>) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .filter_map(|line| line.to_str().ok()?.strip_prefix("td_access="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        .next()
}

#[actix_web::test]
async fn section_8_an_application_route_writes_the_cookie_renewal_back_once() {
    let (devices, clock) = harness();
    let app = init_service(
        App::new()
            .configure(|config| trusted_devices_actix::configure(&devices, config))
            .route("/me", web::get().to(me))
            .wrap(from_fn(write_renewals)),
    )
    .await;
    let access = cookie_login(&devices).await;

    let early = call_service(&app, get_me(&access).to_request()).await;
    assert_eq!(early.status(), 200);
    assert_eq!(
        renewed_access(&early),
        None,
        "no renewal before half the token's life"
    );

    clock.advance(TimeDelta::minutes(10));
    let late = call_service(&app, get_me(&access).to_request()).await;
    assert_eq!(late.status(), 200);
    let fresh = renewed_access(&late).expect("section 8: a renewal on /me reaches the browser");
    assert_ne!(fresh, access);

    let next = call_service(&app, get_me(&fresh).to_request()).await;
    assert_eq!(next.status(), 200);
    assert_eq!(
        renewed_access(&next),
        None,
        "the fresh cookie is not renewed again"
    );
}

#[actix_web::test]
async fn section_8_without_the_middleware_the_route_still_answers() {
    let (devices, clock) = harness();
    let app = init_service(
        App::new()
            .configure(|config| trusted_devices_actix::configure(&devices, config))
            .route("/me", web::get().to(me)),
    )
    .await;
    let access = cookie_login(&devices).await;
    clock.advance(TimeDelta::minutes(10));
    let late = call_service(&app, get_me(&access).to_request()).await;
    assert_eq!(late.status(), 200);
    assert_eq!(renewed_access(&late), None);
}
