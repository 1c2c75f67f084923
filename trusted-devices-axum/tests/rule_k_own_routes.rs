//! Rule K lives in the service: an application's own login, refresh and verify routes,
//! which call the service and no limiter, answer 429 past the policy's limits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use tower::ServiceExt;
use trusted_devices_axum::{ApiError, ClientIp, Devices, JsonBody, LoginDevice, Tokens};
use trusted_devices_core::rate_limit::RateLimit;
use trusted_devices_core::{KeyRing, Policy, SigningKey, TrustedDevices, UserId};

#[derive(serde::Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

#[derive(serde::Deserialize)]
struct VerifyBody {
    token: String,
}

async fn my_login(
    State(devices): State<Devices>,
    LoginDevice(info): LoginDevice,
) -> Result<Tokens, ApiError> {
    Ok(devices
        .service()
        .login(UserId::new("alice")?, info)
        .await?
        .into())
}

async fn my_refresh(
    State(devices): State<Devices>,
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
    State(devices): State<Devices>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<VerifyBody>,
) -> Result<String, ApiError> {
    let verified = devices.service().verify(&body.token, ip).await?;
    Ok(verified.device.user_id.to_string())
}

fn app() -> Router {
    let twice = || RateLimit::new(2, Duration::from_secs(60));
    let policy = Policy::builder()
        .login_rate_per_ip(twice())
        .refresh_rate_per_ip(twice())
        .verify_rate_per_ip(twice())
        .build()
        .unwrap();
    let key = SigningKey::new("k1", &[7u8; 32]).unwrap();
    let service = TrustedDevices::builder(KeyRing::new(key))
        .policy(policy)
        .build();
    Router::new()
        .route("/my/login", post(my_login))
        .route("/my/refresh", post(my_refresh))
        .route("/my/verify", post(my_verify))
        .with_state(Devices::new(service))
}

async fn post_json(app: &Router, path: &str, body: Value) -> (StatusCode, Value) {
    let mut request = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let peer: SocketAddr = "203.0.113.9:4000".parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 1 << 16).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn rule_k_an_applications_own_login_refresh_and_verify_routes_are_limited() {
    let app = app();
    let (status, first) = post_json(&app, "/my/login", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, _) = post_json(&app, "/my/login", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = post_json(&app, "/my/login", json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["code"], "rate_limited");
    assert!(refused["retry_after"].as_u64().unwrap() >= 1);

    let access = first["access_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (status, body) = post_json(&app, "/my/verify", json!({"token": access})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, refused) = post_json(&app, "/my/verify", json!({"token": access})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["code"], "rate_limited");

    let mut refresh = first["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (status, pair) =
            post_json(&app, "/my/refresh", json!({"refresh_token": refresh})).await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    }
    let (status, refused) = post_json(&app, "/my/refresh", json!({"refresh_token": refresh})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["code"], "rate_limited");
}
