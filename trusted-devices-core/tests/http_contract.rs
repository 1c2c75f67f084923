//! SPEC §6 through the framework-neutral layer: every route, status, code and header.
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
use serde_json::{Value, json};
use trusted_devices_core::http::{ApiRequest, ApiResponse, DeviceApi, Endpoint, MAX_BODY_BYTES};
use trusted_devices_core::{LoginOutcome, Policy};

struct Call<'a> {
    f: &'a Fixture,
    bearer: Option<String>,
    id: Option<String>,
    body: Vec<u8>,
}

fn call(f: &Fixture) -> Call<'_> {
    Call {
        f,
        bearer: None,
        id: None,
        body: Vec::new(),
    }
}

impl Call<'_> {
    fn auth(mut self, login: &LoginOutcome) -> Self {
        self.bearer = Some(format!("Bearer {}", login.tokens.access_token));
        self
    }
    fn header(mut self, value: &str) -> Self {
        self.bearer = Some(value.to_owned());
        self
    }
    fn id(mut self, id: impl ToString) -> Self {
        self.id = Some(id.to_string());
        self
    }
    fn json(mut self, body: Value) -> Self {
        self.body = serde_json::to_vec(&body).unwrap();
        self
    }
    fn raw(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }
    async fn send(self, endpoint: Endpoint) -> ApiResponse {
        let request = ApiRequest {
            authorization: self.bearer.as_deref().map(str::as_bytes),
            device_id: self.id.as_deref(),
            body: &self.body,
            client_ip: None,
            ..ApiRequest::default()
        };
        DeviceApi::new(self.f.service.clone())
            .handle(endpoint, request)
            .await
    }
}

fn body(response: &ApiResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

fn assert_problem(response: &ApiResponse, status: u16, code: &str) {
    assert_eq!(
        response.status,
        status,
        "{code}: {}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let problem = body(response);
    assert_eq!(problem["code"], code);
    assert_eq!(problem["status"], status);
    assert_eq!(
        problem["type"],
        format!("urn:trusted-devices:problem:{code}")
    );
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    let challenge = response.header("www-authenticate");
    if [
        "token_missing",
        "token_invalid",
        "token_expired",
        "device_revoked",
    ]
    .contains(&code)
    {
        assert_eq!(challenge, Some("Bearer error=\"invalid_token\""), "{code}");
    } else {
        assert_eq!(challenge, None, "{code}");
    }
}

#[test]
fn every_route_of_spec_section_6_has_its_method_and_path() {
    let table: Vec<(&str, &str)> = Endpoint::ALL
        .iter()
        .map(|e| (e.method(), e.path()))
        .collect();
    assert_eq!(
        table,
        vec![
            ("POST", "/auth/refresh"),
            ("DELETE", "/auth/refresh"),
            ("POST", "/auth/verify"),
            ("GET", "/devices"),
            ("GET", "/devices/{id}"),
            ("PATCH", "/devices/{id}"),
            ("DELETE", "/devices/{id}"),
            ("POST", "/devices/logout"),
            ("POST", "/devices/revoke-others"),
            ("GET", "/devices/activity"),
        ]
    );
    let public: Vec<Endpoint> = Endpoint::ALL
        .into_iter()
        .filter(|e| !e.needs_bearer())
        .collect();
    assert_eq!(
        public,
        [Endpoint::Refresh, Endpoint::SignOut, Endpoint::Verify],
        "only these take no bearer token"
    );
}

#[tokio::test]
async fn refresh_route_returns_a_token_pair_not_to_be_cached() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let response = call(&f)
        .json(json!({"refresh_token": login.tokens.refresh_token.expose()}))
        .send(Endpoint::Refresh)
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let pair = body(&response);
    let keys: Vec<&str> = pair
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5);
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["device_id"], login.device.id.to_string());
    assert!(pair["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(pair["refresh_token"].as_str().unwrap().starts_with("tdr_"));
    let debug = format!("{response:?}");
    assert!(
        !debug.contains("tdr_") && !debug.contains("eyJ"),
        "no token in Debug: {debug}"
    );
}

#[tokio::test]
async fn refresh_route_errors() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let refresh = |token: &str| call(&f).json(json!({"refresh_token": token}));
    assert_problem(
        &refresh("tdr_nope").send(Endpoint::Refresh).await,
        401,
        "refresh_token_invalid",
    );
    let token = login.tokens.refresh_token.expose();
    refresh(token).send(Endpoint::Refresh).await;
    f.advance(TimeDelta::seconds(11));
    assert_problem(
        &refresh(token).send(Endpoint::Refresh).await,
        401,
        "refresh_token_reused",
    );
    let other = f.login("alice").await;
    f.advance(TimeDelta::days(31));
    let expired = refresh(other.tokens.refresh_token.expose())
        .send(Endpoint::Refresh)
        .await;
    assert_problem(&expired, 401, "refresh_token_expired");
}

#[tokio::test]
async fn verify_route() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let response = call(&f)
        .json(json!({"token": login.tokens.access_token}))
        .send(Endpoint::Verify)
        .await;
    assert_eq!(response.status, 200);
    let verified = body(&response);
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["user_id"], "alice");
    assert_eq!(verified["device_id"], login.device.id.to_string());
    let expires =
        chrono::DateTime::parse_from_rfc3339(verified["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires.timestamp(), f.now().timestamp() + 900);
    let bad = call(&f)
        .json(json!({"token": "x.y.z"}))
        .send(Endpoint::Verify)
        .await;
    assert_problem(&bad, 401, "token_invalid");
}

#[tokio::test]
async fn device_routes_succeed_with_the_spec_shapes() {
    let f = Fixture::new(
        Policy::builder()
            .delete_delay(Duration::ZERO)
            .update_delay(Duration::ZERO),
    );
    let me = f.login("alice").await;
    let other = f.login("alice").await;
    let third = f.login("alice").await;

    let list = call(&f).auth(&me).send(Endpoint::ListDevices).await;
    assert_eq!(list.status, 200);
    let devices = body(&list);
    assert_eq!(devices.as_array().unwrap().len(), 3);
    let first = &devices[0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "can_delete_other_devices",
            "can_update_other_devices",
            "created_at",
            "current",
            "id",
            "ip",
            "key_bound",
            "last_ip",
            "last_seen_at",
            "location",
            "name",
            "user_agent"
        ]
    );
    assert!(chrono::DateTime::parse_from_rfc3339(first["created_at"].as_str().unwrap()).is_ok());
    let current: Vec<&Value> = devices
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["current"] == true)
        .map(|d| &d["id"])
        .collect();
    assert_eq!(
        current,
        [&json!(me.device.id.to_string())],
        "exactly the acting device is current"
    );

    let got = call(&f)
        .auth(&me)
        .id(other.device.id)
        .send(Endpoint::GetDevice)
        .await;
    assert_eq!(
        (got.status, body(&got)["id"].clone()),
        (200, json!(other.device.id.to_string()))
    );
    assert_eq!(body(&got)["current"], false);

    let patched = call(&f)
        .auth(&me)
        .id(other.device.id)
        .json(json!({"name": "  Kitchen tablet ", "can_delete_other_devices": false}))
        .send(Endpoint::UpdateDevice)
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(body(&patched)["name"], "Kitchen tablet");
    assert_eq!(body(&patched)["can_delete_other_devices"], false);

    let deleted = call(&f)
        .auth(&me)
        .id(other.device.id)
        .send(Endpoint::DeleteDevice)
        .await;
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));

    let revoked = call(&f).auth(&me).send(Endpoint::RevokeOthers).await;
    assert_eq!(
        (revoked.status, body(&revoked)),
        (200, json!({"revoked": 1}))
    );
    assert_problem(
        &call(&f).auth(&third).send(Endpoint::ListDevices).await,
        401,
        "device_revoked",
    );

    let logout = call(&f).auth(&me).send(Endpoint::Logout).await;
    assert_eq!(logout.status, 204);
    assert_problem(
        &call(&f).auth(&me).send(Endpoint::ListDevices).await,
        401,
        "device_revoked",
    );
}

#[tokio::test]
async fn bearer_errors_carry_the_challenge() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    assert_problem(
        &call(&f).send(Endpoint::ListDevices).await,
        401,
        "token_missing",
    );
    assert_problem(
        &call(&f).header("Basic YTpi").send(Endpoint::Logout).await,
        401,
        "token_missing",
    );
    assert_problem(
        &call(&f)
            .header("Bearer nope")
            .send(Endpoint::ListDevices)
            .await,
        401,
        "token_invalid",
    );
    f.advance(TimeDelta::hours(1));
    assert_problem(
        &call(&f).auth(&login).send(Endpoint::RevokeOthers).await,
        401,
        "token_expired",
    );
}

#[tokio::test]
async fn rule_a_refusals_over_http() {
    let f = Fixture::defaults();
    let old = f.login("alice").await;
    let young = f.login("alice").await;
    let id = old.device.id;
    let too_soon = call(&f)
        .auth(&young)
        .id(id)
        .send(Endpoint::DeleteDevice)
        .await;
    assert_problem(&too_soon, 403, "delete_too_soon");
    assert_eq!(body(&too_soon)["retry_after"], 86_400);
    assert_eq!(too_soon.header("retry-after"), Some("86400"));
    let rename = call(&f)
        .auth(&young)
        .id(id)
        .json(json!({"name": "x"}))
        .send(Endpoint::UpdateDevice)
        .await;
    assert_problem(&rename, 403, "update_too_soon");
    assert_eq!(rename.header("retry-after"), Some("3600"));

    let f = Fixture::new(
        Policy::builder()
            .allow_global_delete(false)
            .allow_global_update(false),
    );
    let (a, b) = (f.login("alice").await, f.login("alice").await);
    assert_problem(
        &call(&f)
            .auth(&a)
            .id(b.device.id)
            .send(Endpoint::DeleteDevice)
            .await,
        403,
        "global_delete_disabled",
    );
    let patch = call(&f).auth(&a).id(b.device.id).json(json!({"name": "x"}));
    assert_problem(
        &patch.send(Endpoint::UpdateDevice).await,
        403,
        "global_update_disabled",
    );
    assert_problem(
        &call(&f).auth(&a).send(Endpoint::RevokeOthers).await,
        403,
        "global_delete_disabled",
    );

    let f = Fixture::new(
        Policy::builder()
            .default_can_delete_other_devices(false)
            .delete_delay(Duration::ZERO),
    );
    let (a, b) = (f.login("alice").await, f.login("alice").await);
    assert_problem(
        &call(&f)
            .auth(&a)
            .id(b.device.id)
            .send(Endpoint::DeleteDevice)
            .await,
        403,
        "permission_denied",
    );
    let grant = call(&f)
        .auth(&a)
        .id(a.device.id)
        .json(json!({"can_delete_other_devices": true}));
    assert_problem(
        &grant.send(Endpoint::UpdateDevice).await,
        403,
        "permission_denied",
    );
}

#[tokio::test]
async fn unknown_foreign_and_malformed_ids_are_not_found() {
    let f = Fixture::defaults();
    let alice = f.login("alice").await;
    let bob = f.login("bob").await;
    for id in [
        bob.device.id.to_string(),
        "not-a-uuid".into(),
        "0190a000-0000-7000-8000-000000000000".into(),
    ] {
        assert_problem(
            &call(&f)
                .auth(&alice)
                .id(&id)
                .send(Endpoint::GetDevice)
                .await,
            404,
            "device_not_found",
        );
        assert_problem(
            &call(&f)
                .auth(&alice)
                .id(&id)
                .send(Endpoint::DeleteDevice)
                .await,
            404,
            "device_not_found",
        );
        let patch = call(&f).auth(&alice).id(&id).json(json!({"name": "x"}));
        assert_problem(
            &patch.send(Endpoint::UpdateDevice).await,
            404,
            "device_not_found",
        );
    }
}

#[tokio::test]
async fn too_many_devices_and_storage_codes_map_to_their_statuses() {
    use trusted_devices_core::{Error, StorageError};
    assert_problem(
        &ApiResponse::error(&Error::TooManyDevices),
        409,
        "too_many_devices",
    );
    let storage = Error::from(StorageError::unavailable(std::io::Error::other(
        "connection refused",
    )));
    let response = ApiResponse::error(&storage);
    assert_problem(&response, 503, "storage_unavailable");
    assert!(
        !String::from_utf8_lossy(&response.body).contains("refused"),
        "driver details stay server-side"
    );
    assert!(
        std::error::Error::source(&storage).is_some(),
        "the driver error is kept as the source"
    );
}

#[tokio::test]
async fn bad_bodies_are_invalid_request() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let id = login.device.id;
    let cases: Vec<(Call<'_>, Endpoint, u16)> = vec![
        (call(&f).raw(b"{not json"), Endpoint::Refresh, 400),
        (call(&f).raw(b""), Endpoint::Refresh, 400),
        (
            call(&f).json(json!({"refresh_token": 5})),
            Endpoint::Refresh,
            422,
        ),
        (
            call(&f).json(json!({"refresh_token": "x", "extra": 1})),
            Endpoint::Refresh,
            422,
        ),
        (call(&f).json(json!({})), Endpoint::Verify, 422),
        (
            call(&f).raw(&vec![b' '; MAX_BODY_BYTES + 1]),
            Endpoint::Verify,
            400,
        ),
        (
            call(&f)
                .auth(&login)
                .id(id)
                .json(json!({"name": "x".repeat(101)})),
            Endpoint::UpdateDevice,
            422,
        ),
        (
            call(&f).auth(&login).id(id).json(json!({"name": "   "})),
            Endpoint::UpdateDevice,
            422,
        ),
        (
            call(&f)
                .auth(&login)
                .id(id)
                .json(json!({"name": "a\u{7}b"})),
            Endpoint::UpdateDevice,
            422,
        ),
        (
            call(&f)
                .auth(&login)
                .id(id)
                .json(json!({"can_delete_other_devices": "yes"})),
            Endpoint::UpdateDevice,
            422,
        ),
        (
            call(&f).auth(&login).id(id).json(json!({"current": true})),
            Endpoint::UpdateDevice,
            422,
        ),
        (
            call(&f).auth(&login).id(id).json(json!([1, 2])),
            Endpoint::UpdateDevice,
            422,
        ),
    ];
    for (request, endpoint, status) in cases {
        let response = request.send(endpoint).await;
        assert_problem(&response, status, "invalid_request");
    }
    let unchanged = f.service.devices().get(id).await.unwrap().unwrap();
    assert_eq!(
        unchanged.name, login.device.name,
        "a refused patch wrote nothing"
    );
}

#[tokio::test]
async fn strict_bodies_every_body_is_a_json_object() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let id = login.device.id;
    let pwned = call(&f)
        .auth(&login)
        .id(id)
        .json(json!(["pwned", false, false]))
        .send(Endpoint::UpdateDevice)
        .await;
    assert_problem(&pwned, 422, "invalid_request");
    let refresh_as_array = call(&f)
        .json(json!([login.tokens.refresh_token.expose()]))
        .send(Endpoint::Refresh)
        .await;
    assert_problem(&refresh_as_array, 422, "invalid_request");
    for not_an_object in [&b"\"text\""[..], b"42", b"null", b"true", b" [ ] "] {
        let response = call(&f).raw(not_an_object).send(Endpoint::Verify).await;
        assert_problem(&response, 422, "invalid_request");
    }
    let device = f.service.devices().get(id).await.unwrap().unwrap();
    assert_eq!(device.name, login.device.name, "the array renamed nothing");
    assert!(device.can_delete_other_devices && device.can_update_other_devices);
}

#[tokio::test]
async fn strict_bodies_null_for_an_optional_field_is_refused() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let id = login.device.id;
    for field in [
        "name",
        "can_delete_other_devices",
        "can_update_other_devices",
    ] {
        let response = call(&f)
            .auth(&login)
            .id(id)
            .json(json!({ field: null }))
            .send(Endpoint::UpdateDevice)
            .await;
        assert_problem(&response, 422, "invalid_request");
    }
    let absent = call(&f)
        .auth(&login)
        .id(id)
        .json(json!({}))
        .send(Endpoint::UpdateDevice)
        .await;
    assert_eq!(absent.status, 200, "an absent field is left as it is");
}

#[tokio::test]
async fn responses_and_names_every_answer_is_no_store_errors_included() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let id = login.device.id;
    let access = login.tokens.access_token.clone();
    let answers = vec![
        call(&f).auth(&login).send(Endpoint::ListDevices).await,
        call(&f).auth(&login).id(id).send(Endpoint::GetDevice).await,
        call(&f)
            .json(json!({ "token": access }))
            .send(Endpoint::Verify)
            .await,
        call(&f)
            .json(json!({ "token": "nope" }))
            .send(Endpoint::Verify)
            .await,
        call(&f).send(Endpoint::ListDevices).await,
        call(&f)
            .auth(&login)
            .id("x")
            .send(Endpoint::GetDevice)
            .await,
        call(&f).raw(b"[").send(Endpoint::Refresh).await,
        call(&f).auth(&login).send(Endpoint::RevokeOthers).await,
        call(&f).auth(&login).send(Endpoint::Logout).await,
    ];
    for answer in answers {
        assert_eq!(
            answer.header("cache-control"),
            Some("no-store"),
            "status {}",
            answer.status
        );
    }
}

#[test]
fn error_codes_lists_every_code_with_the_status_it_is_answered_with() {
    use trusted_devices_core::{Error, InputError, StorageError};
    let every_variant = [
        Error::TokenMissing,
        Error::TokenInvalid,
        Error::TokenExpired,
        Error::DeviceRevoked,
        Error::RefreshTokenInvalid,
        Error::RefreshTokenExpired,
        Error::RefreshTokenReused,
        Error::DeleteTooSoon { retry_after: 1 },
        Error::UpdateTooSoon { retry_after: 1 },
        Error::GlobalDeleteDisabled,
        Error::GlobalUpdateDisabled,
        Error::PermissionDenied,
        Error::DeviceNotFound,
        Error::TooManyDevices,
        Error::InvalidCredentials,
        Error::RateLimited { retry_after: 1 },
        Error::CsrfRejected,
        Error::InvalidRequest(InputError::BodyTooLarge { max: 1 }),
        Error::InvalidRequest(InputError::Malformed { field: "x" }),
        Error::StorageUnavailable(StorageError::unavailable("down")),
        Error::DpopInvalid(trusted_devices_core::dpop::ProofError::Missing),
    ];
    let answered: std::collections::BTreeSet<(&str, u16)> = every_variant
        .iter()
        .map(|e| (e.code(), e.status()))
        .collect();
    let listed: std::collections::BTreeSet<(&str, u16)> = Error::CODES.into_iter().collect();
    assert_eq!(answered, listed);
}

#[tokio::test]
async fn rule_h_without_an_audit_log_the_activity_route_says_no_history_is_kept() {
    // The fixture's service is built without an audit log: nothing is recorded, and the
    // answer must say so rather than look like an empty history.
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let reply = call(&f).auth(&login).send(Endpoint::Activity).await;
    assert_eq!(reply.status, 200);
    let json = body(&reply);
    assert_eq!(json["events"], serde_json::json!([]));
    assert_eq!(json["history_kept"], false, "{json}");
    assert!(
        json["note"]
            .as_str()
            .unwrap_or_default()
            .contains("keeps no history"),
        "{json}"
    );
}
