//! Every route, status, code and header of SPEC §6 through the axum router (tower oneshot).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{Method, Request, StatusCode};
use axum::routing::{get, post};
use axum::{Router, extract::FromRef};
use chrono::TimeDelta;
use serde_json::{Value, json};
use std::str::FromStr;
use tower::ServiceExt;
use trusted_devices_axum::{ApiError, ClientIp, CurrentDevice, Devices, LoginDevice, Tokens};
use trusted_devices_core::http::{ForwardedHeader, TrustedProxies};
use trusted_devices_core::{
    KeyRing, ManualClock, Policy, PolicyBuilder, SigningKey, TrustedDevices, UserId,
};

#[derive(Clone)]
struct AppState(Devices);

impl FromRef<AppState> for Devices {
    fn from_ref(state: &AppState) -> Self {
        state.0.clone()
    }
}

/// The application's own login, as an app would write it with the adapter's extractors.
async fn login(
    State(AppState(devices)): State<AppState>,
    Path(user): Path<String>,
    LoginDevice(info): LoginDevice,
) -> Result<Tokens, ApiError> {
    let login = devices.service().login(UserId::new(user)?, info).await?;
    Ok(login.into())
}

async fn whoami(CurrentDevice(acting): CurrentDevice, ClientIp(ip): ClientIp) -> String {
    format!(
        "{} {}",
        acting.device.user_id,
        ip.map(|ip| ip.to_string()).unwrap_or_default()
    )
}

struct Harness {
    app: Router,
    clock: Arc<ManualClock>,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Harness {
    fn new(policy: PolicyBuilder) -> Self {
        Self::with_proxies(policy, TrustedProxies::none())
    }

    fn with_proxies(policy: PolicyBuilder, proxies: TrustedProxies) -> Self {
        let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
        let service =
            TrustedDevices::builder(KeyRing::new(SigningKey::new("k1", &[3u8; 32]).unwrap()))
                .policy(policy.build().unwrap())
                .clock(clock.clone())
                .build();
        let devices = Devices::new(service).trusted_proxies(proxies);
        let app = Router::new()
            .route("/test-login/{user}", post(login))
            .route("/whoami", get(whoami))
            .with_state(AppState(devices.clone()))
            .merge(trusted_devices_axum::router(&devices));
        Self { app, clock }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Body>,
    ) -> Reply {
        self.send_from("198.51.100.20:5000", method, path, bearer, body, &[])
            .await
    }

    async fn send_from(
        &self,
        peer: &str,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Body>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(body.unwrap_or_else(Body::empty)).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn refresh(&self, token: &str) -> Reply {
        let body = json_body(json!({"refresh_token": token}));
        self.send(Method::POST, "/auth/refresh", None, body).await
    }

    async fn login(&self, user: &str) -> (String, String, String) {
        let reply = self
            .send(Method::POST, &format!("/test-login/{user}"), None, None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let field = |name: &str| reply.body[name].as_str().unwrap().to_owned();
        (
            field("access_token"),
            field("refresh_token"),
            field("device_id"),
        )
    }
}

fn json_body(value: Value) -> Option<Body> {
    Some(Body::from(serde_json::to_vec(&value).unwrap()))
}

fn assert_problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{code}: {:?}", reply.body);
    assert_eq!(
        reply.headers["content-type"], "application/problem+json",
        "{code}"
    );
    assert_eq!(reply.body["code"], code);
    assert_eq!(reply.body["status"], status);
    for field in ["type", "title", "detail"] {
        assert!(reply.body[field].is_string(), "{code}: {field}");
    }
    let bearer = [
        "token_missing",
        "token_invalid",
        "token_expired",
        "device_revoked",
    ]
    .contains(&code);
    assert_eq!(
        reply
            .headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        bearer.then_some("Bearer error=\"invalid_token\""),
        "{code}"
    );
}

fn no_delays() -> PolicyBuilder {
    Policy::builder()
        .delete_delay(Duration::ZERO)
        .update_delay(Duration::ZERO)
}

#[tokio::test]
async fn every_route_answers_its_success_status() {
    let h = Harness::new(no_delays());
    let (access, refresh, me) = h.login("alice").await;
    let (_, _, other) = h.login("alice").await;
    h.login("alice").await;

    let verify = h
        .send(
            Method::POST,
            "/auth/verify",
            None,
            json_body(json!({"token": access})),
        )
        .await;
    assert_eq!(verify.status, StatusCode::OK);
    assert_eq!(
        (
            verify.body["valid"].clone(),
            verify.body["device_id"].clone()
        ),
        (json!(true), json!(me))
    );

    let list = h.send(Method::GET, "/devices", Some(&access), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body.as_array().unwrap().len(), 3);

    let got = h
        .send(
            Method::GET,
            &format!("/devices/{other}"),
            Some(&access),
            None,
        )
        .await;
    assert_eq!(
        (got.status, got.body["current"].clone()),
        (StatusCode::OK, json!(false))
    );

    let patch = json_body(json!({"name": "Kitchen tablet", "can_update_other_devices": false}));
    let patched = h
        .send(
            Method::PATCH,
            &format!("/devices/{other}"),
            Some(&access),
            patch,
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["name"], "Kitchen tablet");

    let deleted = h
        .send(
            Method::DELETE,
            &format!("/devices/{other}"),
            Some(&access),
            None,
        )
        .await;
    assert_eq!(
        (deleted.status, deleted.body.clone()),
        (StatusCode::NO_CONTENT, Value::Null)
    );

    let revoked = h
        .send(Method::POST, "/devices/revoke-others", Some(&access), None)
        .await;
    assert_eq!(
        (revoked.status, revoked.body.clone()),
        (StatusCode::OK, json!({"revoked": 1}))
    );

    let refreshed = h
        .send(
            Method::POST,
            "/auth/refresh",
            None,
            json_body(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    assert_eq!(refreshed.headers["cache-control"], "no-store");
    assert_eq!(refreshed.body["token_type"], "Bearer");
    let fresh_access = refreshed.body["access_token"].as_str().unwrap().to_owned();

    let logout = h
        .send(Method::POST, "/devices/logout", Some(&fresh_access), None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_problem(
        &h.send(Method::GET, "/devices", Some(&fresh_access), None)
            .await,
        401,
        "device_revoked",
    );
}

#[tokio::test]
async fn access_token_codes() {
    let h = Harness::new(Policy::builder());
    let (access, _, _) = h.login("alice").await;
    assert_problem(
        &h.send(Method::GET, "/devices", None, None).await,
        401,
        "token_missing",
    );
    assert_problem(
        &h.send(Method::GET, "/devices", Some("x.y.z"), None).await,
        401,
        "token_invalid",
    );
    assert_problem(
        &h.send(Method::GET, "/whoami", Some("x.y.z"), None).await,
        401,
        "token_invalid",
    );
    h.clock.advance(TimeDelta::minutes(16));
    assert_problem(
        &h.send(Method::GET, "/devices", Some(&access), None).await,
        401,
        "token_expired",
    );
    assert_problem(
        &h.send(
            Method::POST,
            "/auth/verify",
            None,
            json_body(json!({"token": access})),
        )
        .await,
        401,
        "token_expired",
    );
}

#[tokio::test]
async fn refresh_token_codes() {
    let h = Harness::new(Policy::builder());
    let (_, refresh, _) = h.login("alice").await;
    assert_problem(
        &h.refresh("tdr_nothing").await,
        401,
        "refresh_token_invalid",
    );
    assert_eq!(h.refresh(&refresh).await.status, StatusCode::OK);
    h.clock.advance(TimeDelta::seconds(11));
    assert_problem(&h.refresh(&refresh).await, 401, "refresh_token_reused");
    let (_, other, _) = h.login("alice").await;
    h.clock.advance(TimeDelta::days(31));
    assert_problem(&h.refresh(&other).await, 401, "refresh_token_expired");
}

#[tokio::test]
async fn rule_a_codes_with_retry_after() {
    let h = Harness::new(Policy::builder());
    let (_, _, old) = h.login("alice").await;
    let (young, _, _) = h.login("alice").await;
    let too_soon = h
        .send(
            Method::DELETE,
            &format!("/devices/{old}"),
            Some(&young),
            None,
        )
        .await;
    assert_problem(&too_soon, 403, "delete_too_soon");
    assert_eq!(too_soon.headers["retry-after"], "86400");
    assert_eq!(too_soon.body["retry_after"], 86_400);
    let rename = json_body(json!({"name": "mine now"}));
    let update = h
        .send(
            Method::PATCH,
            &format!("/devices/{old}"),
            Some(&young),
            rename,
        )
        .await;
    assert_problem(&update, 403, "update_too_soon");
    assert_eq!(update.headers["retry-after"], "3600");

    let h = Harness::new(
        no_delays()
            .allow_global_delete(false)
            .allow_global_update(false),
    );
    let (_, _, target) = h.login("alice").await;
    let (acting, _, _) = h.login("alice").await;
    assert_problem(
        &h.send(
            Method::DELETE,
            &format!("/devices/{target}"),
            Some(&acting),
            None,
        )
        .await,
        403,
        "global_delete_disabled",
    );
    let rename = json_body(json!({"name": "x"}));
    assert_problem(
        &h.send(
            Method::PATCH,
            &format!("/devices/{target}"),
            Some(&acting),
            rename,
        )
        .await,
        403,
        "global_update_disabled",
    );

    let h = Harness::new(no_delays().default_can_delete_other_devices(false));
    let (_, _, target) = h.login("alice").await;
    let (acting, _, _) = h.login("alice").await;
    assert_problem(
        &h.send(
            Method::DELETE,
            &format!("/devices/{target}"),
            Some(&acting),
            None,
        )
        .await,
        403,
        "permission_denied",
    );
    assert_problem(
        &h.send(Method::POST, "/devices/revoke-others", Some(&acting), None)
            .await,
        403,
        "permission_denied",
    );
}

#[tokio::test]
async fn not_found_conflict_and_invalid_request() {
    let h = Harness::new(no_delays().max_devices(Some(1)));
    let (alice, _, _) = h.login("alice").await;
    let (_, _, bobs) = h.login("bob").await;
    for path in [format!("/devices/{bobs}"), "/devices/not-a-uuid".into()] {
        assert_problem(
            &h.send(Method::GET, &path, Some(&alice), None).await,
            404,
            "device_not_found",
        );
    }
    let second = h.send(Method::POST, "/test-login/alice", None, None).await;
    assert_problem(&second, 409, "too_many_devices");

    let cases = [
        (Some(Body::from("{not json")), 400),
        (json_body(json!({"refresh_token": 7})), 422),
        (
            json_body(json!({"refresh_token": "x", "surprise": true})),
            422,
        ),
        (Some(Body::from(vec![b' '; 16 * 1024 + 1])), 400),
        (Some(Body::from(vec![b' '; 4 * 1024 * 1024])), 400),
    ];
    for (body, status) in cases {
        assert_problem(
            &h.send(Method::POST, "/auth/refresh", None, body).await,
            status,
            "invalid_request",
        );
    }
    let long_name = json_body(json!({"name": "n".repeat(101)}));
    let me = h
        .send(Method::GET, "/devices", Some(&alice), None)
        .await
        .body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        &h.send(
            Method::PATCH,
            &format!("/devices/{me}"),
            Some(&alice),
            long_name,
        )
        .await,
        422,
        "invalid_request",
    );
}

#[tokio::test]
async fn storage_unavailable_is_503_through_the_router() {
    let store = std::sync::Arc::new(
        trusted_devices_sqlx::SqliteStore::in_memory()
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let service = TrustedDevices::builder(KeyRing::new(SigningKey::new("k1", &[3u8; 32]).unwrap()))
        .devices(store.clone())
        .tokens(store.clone())
        .build();
    let login = service
        .login(
            UserId::new("alice").unwrap(),
            trusted_devices_core::DeviceInfo::new(),
        )
        .await
        .unwrap();
    store.pool().close().await; // the database goes away
    let app = trusted_devices_axum::router::<()>(&Devices::new(service));
    let request = Request::builder()
        .uri("/devices")
        .header(
            "authorization",
            format!("Bearer {}", login.tokens.access_token),
        )
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "storage_unavailable");
    assert!(
        !problem["detail"].as_str().unwrap().contains("pool"),
        "driver details stay server-side"
    );
}

#[tokio::test]
async fn client_ip_comes_from_the_socket_unless_the_peer_is_a_trusted_proxy() {
    let forwarded = [
        ("x-forwarded-for", "203.0.113.50"),
        ("x-device-name", "  Phone  "),
    ];
    let h = Harness::new(Policy::builder());
    let (access, _, _) = h.login("alice").await;
    let direct = h
        .send_from(
            "198.51.100.20:1",
            Method::GET,
            "/whoami",
            Some(&access),
            None,
            &forwarded,
        )
        .await;
    assert_eq!(
        direct.body,
        json!("alice 198.51.100.20"),
        "a forged header from a client is ignored"
    );

    let h = Harness::with_proxies(Policy::builder(), "10.0.0.0/8".parse().unwrap());
    let login = h
        .send_from(
            "10.0.0.2:1",
            Method::POST,
            "/test-login/alice",
            None,
            None,
            &forwarded,
        )
        .await;
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    let via_proxy = h
        .send_from(
            "10.0.0.2:1",
            Method::GET,
            "/whoami",
            Some(&access),
            None,
            &forwarded,
        )
        .await;
    assert_eq!(via_proxy.body, json!("alice 203.0.113.50"));
    let list = h
        .send_from(
            "10.0.0.2:1",
            Method::GET,
            "/devices",
            Some(&access),
            None,
            &[],
        )
        .await;
    assert_eq!(
        list.body[0]["ip"], "203.0.113.50",
        "the login recorded the forwarded client"
    );
    assert_eq!(list.body[0]["name"], "Phone", "X-Device-Name is trimmed");
}

#[tokio::test]
async fn forwarded_headers_every_line_is_read_and_only_the_chosen_header() {
    let h = Harness::with_proxies(Policy::builder(), "10.0.0.0/8".parse().unwrap());
    let (access, _, _) = h.login("alice").await;
    let whoami = |headers: Vec<(&'static str, &'static str)>| {
        let h = &h;
        let access = access.clone();
        async move {
            h.send_from(
                "10.0.0.2:1",
                Method::GET,
                "/whoami",
                Some(&access),
                None,
                &headers,
            )
            .await
            .body
        }
    };
    let repeated = vec![
        ("x-forwarded-for", "6.6.6.6"),
        ("x-forwarded-for", "203.0.113.60, 10.0.0.9"),
    ];
    assert_eq!(
        whoami(repeated).await,
        json!("alice 203.0.113.60"),
        "the proxy's own line, the last, is read"
    );
    let client_forwarded = vec![
        ("forwarded", "for=7.7.7.7"),
        ("x-forwarded-for", "203.0.113.61"),
    ];
    assert_eq!(
        whoami(client_forwarded).await,
        json!("alice 203.0.113.61"),
        "a client's Forwarded does not override the proxy's X-Forwarded-For"
    );

    let rfc = Harness::with_proxies(
        Policy::builder(),
        TrustedProxies::from_str("10.0.0.0/8")
            .unwrap()
            .header(ForwardedHeader::Forwarded),
    );
    let (access, _, _) = rfc.login("alice").await;
    let reply = rfc
        .send_from(
            "10.0.0.2:1",
            Method::GET,
            "/whoami",
            Some(&access),
            None,
            &[
                ("x-forwarded-for", "7.7.7.7"),
                ("forwarded", "for=6.6.6.6"),
                ("forwarded", "for=203.0.113.62"),
            ],
        )
        .await;
    assert_eq!(reply.body, json!("alice 203.0.113.62"));
}
