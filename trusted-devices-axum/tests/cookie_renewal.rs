//! SPEC §8 on an application's own route: a cookie request past half its access token's
//! life gets a fresh access cookie through `CurrentDevice` and the `write_renewals` layer,
//! and the next request, with that cookie, is not renewed again (issue 23, finding 8).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use chrono::TimeDelta;
use tower::ServiceExt;
use trusted_devices_axum::{CurrentDevice, Devices, WriteRenewals};
use trusted_devices_core::LoginRequest;
use trusted_devices_core::http::CookieSettings;
use trusted_devices_core::{
    DeviceInfo, KeyRing, ManualClock, SigningKey, Transport, TrustedDevices, UserId,
};

async fn me(CurrentDevice(acting): CurrentDevice) -> String {
    acting.device.user_id.to_string()
}

struct Harness {
    devices: Devices,
    clock: Arc<ManualClock>,
}

fn harness() -> Harness {
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let key = SigningKey::new("k1", &[9u8; 32]).unwrap();
    let service = TrustedDevices::builder(KeyRing::new(key))
        .clock(clock.clone())
        .build();
    let devices =
        Devices::new(service).cookies(CookieSettings::development(vec!["http://localhost".into()]));
    Harness { devices, clock }
}

fn app(devices: &Devices, layered: bool) -> Router {
    let routes = Router::new()
        .route("/me", get(me))
        .with_state(devices.clone());
    if layered {
        routes.layer(WriteRenewals)
    } else {
        routes
    }
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

async fn get_me(app: &Router, access: &str) -> Response<Body> {
    let request = Request::get("/me")
        .header(COOKIE, format!("td_access={access}"))
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(request).await.unwrap()
}

fn renewed_access(response: &Response<Body>) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|line| line.to_str().ok()?.strip_prefix("td_access="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        .next()
}

#[tokio::test]
async fn section_8_an_application_route_writes_the_cookie_renewal_back_once() {
    let h = harness();
    let app = app(&h.devices, true);
    let access = cookie_login(&h.devices).await;

    let early = get_me(&app, &access).await;
    assert_eq!(early.status(), StatusCode::OK);
    assert_eq!(
        renewed_access(&early),
        None,
        "no renewal before half the token's life"
    );

    h.clock.advance(TimeDelta::minutes(10));
    let late = get_me(&app, &access).await;
    assert_eq!(late.status(), StatusCode::OK);
    let fresh = renewed_access(&late).expect("section 8: a renewal on /me reaches the browser");
    assert_ne!(fresh, access);

    let next = get_me(&app, &fresh).await;
    assert_eq!(next.status(), StatusCode::OK);
    assert_eq!(
        renewed_access(&next),
        None,
        "the fresh cookie is not renewed again"
    );
}

#[tokio::test]
async fn section_8_without_the_layer_the_route_still_answers() {
    let h = harness();
    let app = app(&h.devices, false);
    let access = cookie_login(&h.devices).await;
    h.clock.advance(TimeDelta::minutes(10));
    let late = get_me(&app, &access).await;
    assert_eq!(late.status(), StatusCode::OK);
    assert_eq!(renewed_access(&late), None);
}
