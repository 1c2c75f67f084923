//! SPEC §9, "`htu` names this server": behind a nested router, a DPoP proof names the path
//! the client addressed, not the one left after the router stripped its prefix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use trusted_devices_axum::Devices;
use trusted_devices_core::LoginRequest;
use trusted_devices_core::dpop::{DpopKey, DpopRequest, ProofFor, PublicOrigin};
use trusted_devices_core::{
    Clock, DeviceInfo, KeyRing, ManualClock, SeededRandom, SigningKey, Transport, TrustedDevices,
    UserId,
};

const ORIGIN: &str = "https://api.example.com";

fn proof(
    clock: &ManualClock,
    key: &DpopKey,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> String {
    let jti = format!("{method}{path}{}", token.is_some());
    key.proof(&ProofFor {
        method,
        uri: &format!("{ORIGIN}{path}"),
        issued_at: clock.now().timestamp(),
        jti: &jti,
        access_token: token,
        nonce: None,
    })
}

#[tokio::test]
async fn section_9_a_nested_routers_proof_names_the_original_path() {
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let service = TrustedDevices::builder(KeyRing::new(SigningKey::new("k1", &[3u8; 32]).unwrap()))
        .clock(clock.clone())
        .build();
    let origins = [PublicOrigin::parse(ORIGIN).unwrap()];
    let devices = Devices::new(service.clone()).public_origins(origins.clone());
    let app = Router::new().nest("/api", trusted_devices_axum::router(&devices));

    let key = DpopKey::generate_ed25519(&SeededRandom::new(1));
    let login_proof = proof(&clock, &key, "POST", "/api/auth/login", None);
    let login = service
        .login(
            UserId::new("alice").unwrap(),
            LoginRequest::new(DeviceInfo::new())
                .transport(Transport::Bearer)
                .proof(Some(DpopRequest {
                    proof: &login_proof,
                    method: "POST",
                    origins: &origins,
                    path: "/api/auth/login",
                })),
        )
        .await
        .unwrap();
    let token = login.tokens.access_token;
    let list = |path: &'static str| {
        let app = app.clone();
        let dpop = proof(&clock, &key, "GET", path, Some(&token));
        let request = Request::get("/api/devices")
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", dpop)
            .header("host", "api.example.com")
            .body(Body::empty())
            .unwrap();
        async move { app.oneshot(request).await.unwrap().status() }
    };
    assert_eq!(
        list("/devices").await,
        StatusCode::UNAUTHORIZED,
        "a proof for the stripped path names no route the client addressed"
    );
    assert_eq!(list("/api/devices").await, StatusCode::OK);
}
