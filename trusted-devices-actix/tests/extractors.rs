//! The actix extractors and router: client IP through trusted proxies, login device info,
//! problem+json answers, the body limit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpResponse, web};
use serde_json::Value;
use trusted_devices_actix::{
    ApiError, ClientIp, CurrentDevice, Devices, LoginDevice, into_response,
};
use trusted_devices_core::http::{ApiResponse, TrustedProxies};
use trusted_devices_core::{Error, KeyRing, SigningKey, TrustedDevices, UserId};

async fn login(
    devices: web::Data<Devices>,
    LoginDevice(info): LoginDevice,
) -> Result<HttpResponse, ApiError> {
    let login = devices
        .service()
        .login(UserId::new("alice").map_err(Error::from)?, info)
        .await?;
    Ok(into_response(ApiResponse::token_pair(&login.tokens)))
}

async fn whoami(CurrentDevice(acting): CurrentDevice, ClientIp(ip): ClientIp) -> String {
    format!(
        "{} {}",
        acting.device.user_id,
        ip.map(|ip| ip.to_string()).unwrap_or_default()
    )
}

fn devices(proxies: &str) -> Devices {
    let key = SigningKey::new("k1", &[5u8; 32]).unwrap();
    Devices::new(TrustedDevices::builder(KeyRing::new(key)).build())
        .trusted_proxies(proxies.parse::<TrustedProxies>().unwrap())
}

macro_rules! app {
    ($devices:expr) => {{
        let devices = $devices;
        init_service(
            App::new()
                .configure(|config| trusted_devices_actix::configure(&devices, config))
                .route("/login", web::post().to(login))
                .route("/whoami", web::get().to(whoami)),
        )
        .await
    }};
}

#[actix_web::test]
async fn client_ip_comes_from_the_socket_unless_the_peer_is_a_trusted_proxy() {
    for (proxies, peer, expected) in [
        ("", "198.51.100.20:1", "198.51.100.20"),
        ("10.0.0.0/8", "10.0.0.2:1", "203.0.113.50"),
    ] {
        let app = app!(devices(proxies));
        let request = TestRequest::post()
            .uri("/login")
            .peer_addr(peer.parse().unwrap())
            .insert_header(("x-forwarded-for", "203.0.113.50"))
            .insert_header(("x-device-name", "  Phone "))
            .to_request();
        let body: Value =
            serde_json::from_slice(&read_body(call_service(&app, request).await).await).unwrap();
        let access = body["access_token"].as_str().unwrap().to_owned();
        let request = TestRequest::get()
            .uri("/whoami")
            .peer_addr(peer.parse().unwrap())
            .insert_header(("authorization", format!("Bearer {access}")))
            .insert_header(("x-forwarded-for", "203.0.113.50"))
            .to_request();
        let text = read_body(call_service(&app, request).await).await;
        assert_eq!(
            text,
            format!("alice {expected}").as_bytes(),
            "proxies {proxies:?}"
        );
        let request = TestRequest::get()
            .uri("/devices")
            .peer_addr(peer.parse().unwrap())
            .insert_header(("authorization", format!("Bearer {access}")))
            .to_request();
        let list: Value =
            serde_json::from_slice(&read_body(call_service(&app, request).await).await).unwrap();
        assert_eq!(list[0]["ip"], expected);
        assert_eq!(list[0]["name"], "Phone");
    }
}

#[actix_web::test]
async fn refusals_are_problem_json_with_their_headers() {
    let app = app!(devices(""));
    let response = call_service(&app, TestRequest::get().uri("/whoami").to_request()).await;
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers().get("www-authenticate").unwrap(),
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let problem: Value = serde_json::from_slice(&read_body(response).await).unwrap();
    assert_eq!(problem["code"], "token_missing");

    let huge = vec![b' '; 16 * 1024 + 1];
    let request = TestRequest::post()
        .uri("/auth/refresh")
        .set_payload(huge)
        .to_request();
    let response = call_service(&app, request).await;
    assert_eq!(response.status().as_u16(), 400);
    let problem: Value = serde_json::from_slice(&read_body(response).await).unwrap();
    assert_eq!(problem["code"], "invalid_request");
}

#[actix_web::test]
async fn an_app_without_configure_gets_500_naming_the_fix_not_a_panic() {
    async fn login_info(LoginDevice(info): LoginDevice) -> String {
        format!("{:?}", info.ip)
    }
    let app = init_service(
        App::new()
            .route("/whoami", web::get().to(whoami))
            .route("/login-info", web::get().to(login_info)),
    )
    .await;
    for uri in ["/whoami", "/login-info"] {
        let response = call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(response.status().as_u16(), 500, "{uri}");
        let message = String::from_utf8(read_body(response).await.to_vec()).unwrap();
        assert!(
            message.contains("call trusted_devices_actix::configure"),
            "{uri}: {message}"
        );
    }
}

#[actix_web::test]
async fn forwarded_headers_every_line_is_read_and_only_the_chosen_header() {
    let app = app!(devices("10.0.0.0/8"));
    let request = TestRequest::post()
        .uri("/login")
        .peer_addr("10.0.0.2:1".parse().unwrap())
        .to_request();
    let body: Value =
        serde_json::from_slice(&read_body(call_service(&app, request).await).await).unwrap();
    let access = body["access_token"].as_str().unwrap().to_owned();
    let cases: [(&[(&str, &str)], &str); 2] = [
        (
            &[
                ("x-forwarded-for", "6.6.6.6"),
                ("x-forwarded-for", "203.0.113.60, 10.0.0.9"),
            ],
            "203.0.113.60",
        ),
        (
            &[
                ("forwarded", "for=7.7.7.7"),
                ("x-forwarded-for", "203.0.113.61"),
            ],
            "203.0.113.61",
        ),
    ];
    for (headers, expected) in cases {
        let mut request = TestRequest::get()
            .uri("/whoami")
            .peer_addr("10.0.0.2:1".parse().unwrap())
            .insert_header(("authorization", format!("Bearer {access}")));
        for header in headers {
            request = request.append_header(*header);
        }
        let text = read_body(call_service(&app, request.to_request()).await).await;
        assert_eq!(text, format!("alice {expected}").as_bytes(), "{headers:?}");
    }
}

/// SPEC §9: HTTP/2 names the host in `:authority` (the request URI), not in a `Host`
/// header; the neutral request takes it from there, so a DPoP proof's `htu` can be checked.
#[actix_web::test]
async fn section_9_http2_authority_counts_as_the_host() {
    let devices = devices("");
    let request = TestRequest::get()
        .uri("https://api.example.com/me")
        .to_http_request();
    assert!(request.headers().get("host").is_none());
    let neutral = trusted_devices_actix::api_request(&devices, &request, &[]);
    assert_eq!(neutral.host, Some(&b"api.example.com"[..]));
    assert_eq!(neutral.path, "/me");
    let with_host = TestRequest::get()
        .uri("https://api.example.com/me")
        .insert_header(("host", "other.example.com"))
        .to_http_request();
    let neutral = trusted_devices_actix::api_request(&devices, &with_host, &[]);
    assert_eq!(neutral.host, Some(&b"other.example.com"[..]), "Host wins");
}
