//! Rule K lives in the service: an application's own login, refresh and verify routes,
//! which call the service and no limiter, answer 429 past the policy's limits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, web};
use serde_json::{Value, json};
use trusted_devices_actix::{ApiError, ClientIp, Devices, JsonBody, LoginDevice, Tokens};
use trusted_devices_core::rate_limit::RateLimit;
use trusted_devices_core::{Error, KeyRing, Policy, SigningKey, TrustedDevices, UserId};

#[derive(serde::Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

#[derive(serde::Deserialize)]
struct VerifyBody {
    token: String,
}

async fn my_login(
    devices: web::Data<Devices>,
    LoginDevice(info): LoginDevice,
) -> Result<Tokens, ApiError> {
    let user = UserId::new("alice").map_err(Error::from)?;
    Ok(devices.service().login(user, info).await?.into())
}

async fn my_refresh(
    devices: web::Data<Devices>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Tokens, ApiError> {
    Ok(devices
        .service()
        .refresh(&body.refresh_token, ip)
        .await?
        .into())
}

async fn my_verify(
    devices: web::Data<Devices>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<VerifyBody>,
) -> Result<String, ApiError> {
    let verified = devices.service().verify(&body.token, ip).await?;
    Ok(verified.device.user_id.to_string())
}

fn devices() -> Devices {
    let twice = || RateLimit::new(2, Duration::from_secs(60));
    let policy = Policy::builder()
        .login_rate_per_ip(twice())
        .refresh_rate_per_ip(twice())
        .verify_rate_per_ip(twice())
        .build()
        .unwrap();
    let key = SigningKey::new("k1", &[7u8; 32]).unwrap();
    Devices::new(
        TrustedDevices::builder(KeyRing::new(key))
            .policy(policy)
            .build(),
    )
}

#[actix_web::test]
async fn rule_k_an_applications_own_login_refresh_and_verify_routes_are_limited() {
    let app = init_service(
        App::new()
            .app_data(web::Data::new(devices()))
            .route("/my/login", web::post().to(my_login))
            .route("/my/refresh", web::post().to(my_refresh))
            .route("/my/verify", web::post().to(my_verify)),
    )
    .await;
    let post = |path: &str, body: Value| {
        TestRequest::post()
            .uri(path)
            .peer_addr("203.0.113.9:4000".parse().unwrap())
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_string())
            .to_request()
    };
    let mut answers = Vec::new();
    for _ in 0..3 {
        let response = call_service(&app, post("/my/login", json!({}))).await;
        let status = response.status().as_u16();
        let body: Value = serde_json::from_slice(&read_body(response).await).unwrap_or(Value::Null);
        answers.push((status, body));
    }
    assert_eq!(answers[0].0, 200, "{}", answers[0].1);
    assert_eq!(answers[1].0, 200);
    assert_eq!(answers[2].0, 429, "{}", answers[2].1);
    assert_eq!(answers[2].1["code"], "rate_limited");
    let first = &answers[0].1;

    let access = first["access_token"].as_str().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = call_service(&app, post("/my/verify", json!({"token": access}))).await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);

    let mut refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let request = post("/my/refresh", json!({"refresh_token": refresh}));
        let response = call_service(&app, request).await;
        statuses.push(response.status().as_u16());
        let body: Value = serde_json::from_slice(&read_body(response).await).unwrap_or(Value::Null);
        if let Some(next) = body["refresh_token"].as_str() {
            refresh = next.to_owned();
        } else {
            assert_eq!(body["code"], "rate_limited", "{body}");
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
}
