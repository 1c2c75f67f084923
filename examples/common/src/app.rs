//! The demo application's own routes, `POST /auth/login` and `GET /me`, written once against
//! the core's neutral types; each example server only translates.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use trusted_devices_core::LoginRequest;
use trusted_devices_core::http::{ApiRequest, ApiResponse, DeviceApi, DpopInput, parse_body};
use trusted_devices_core::{
    Authenticated, DeviceId, DeviceInfo, Error, InputError, TrustedDevices,
};

use metrics_exporter_prometheus::PrometheusHandle;

use crate::password_gate::PasswordGate;
use crate::users::DemoUsers;

/// The longest password checked, so that hashing cost stays bounded.
const MAX_PASSWORD_BYTES: usize = 1024;

/// `POST /auth/login`'s body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

/// `GET /me`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
struct Me<'a> {
    user_id: &'a str,
    #[schema(value_type = uuid::Uuid)]
    device_id: DeviceId,
}

/// The service and the demo users.
#[derive(Clone)]
pub struct DemoApp {
    /// The trusted-devices service.
    pub service: TrustedDevices,
    users: Arc<DemoUsers>,
    gate: Arc<PasswordGate>,
    metrics: Option<PrometheusHandle>,
    openapi: Arc<Vec<u8>>,
}

impl std::fmt::Debug for DemoApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoApp")
            .field("service", &self.service)
            .field("metrics", &self.metrics.is_some())
            .finish_non_exhaustive()
    }
}

impl DemoApp {
    /// The application over `service`, checking passwords through `gate`.
    pub fn new(service: TrustedDevices, users: DemoUsers, gate: PasswordGate) -> Self {
        Self {
            service,
            users: Arc::new(users),
            gate: Arc::new(gate),
            metrics: None,
            openapi: Arc::new(openapi_json()),
        }
    }

    /// `GET /openapi.json`: OpenAPI 3.1 for SPEC §6 and this server's own routes, derived
    /// from the code (the core's `OpenApiDocument` and this file's types).
    pub fn openapi(&self) -> ApiResponse {
        let mut response = ApiResponse::empty(200);
        response.body = self.openapi.as_ref().clone();
        response.push_header("content-type", "application/json");
        response
    }

    /// Serves the counters `handle` renders at `GET /metrics`.
    #[must_use]
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// `GET /metrics`: the library's counters in the Prometheus text format (404 when no
    /// recorder could be installed), served on the `TD_METRICS_ADDR` listener only, never
    /// on the public one: it tells how busy the service is, though never who uses it.
    pub fn metrics(&self) -> ApiResponse {
        let Some(handle) = &self.metrics else {
            return ApiResponse::problem(404, "not_found", "no metrics recorder");
        };
        let mut response = ApiResponse::empty(200);
        response.body = handle.render().into_bytes();
        response.push_header("content-type", "text/plain; version=0.0.4");
        response
    }

    /// `POST /auth/login {username, password}`: a token pair (or, with
    /// `X-Token-Transport: cookie`, the two cookies), or 401 `invalid_credentials` for a
    /// wrong name or password alike.
    pub async fn login(
        &self,
        api: &DeviceApi,
        request: &ApiRequest<'_>,
        info: DeviceInfo,
    ) -> ApiResponse {
        match self.try_login(api, request, info).await {
            Ok(response) => response,
            // A token route: a nonce is asked for as RFC 9449 section 8 says.
            Err(error) => ApiResponse::token_route_error(&error),
        }
    }

    async fn try_login(
        &self,
        api: &DeviceApi,
        request: &ApiRequest<'_>,
        info: DeviceInfo,
    ) -> Result<ApiResponse, Error> {
        let transport = api.login_transport(request)?;
        let proof = api.dpop_request(request)?;
        let LoginBody { username, password } = parse_body(request.body)?;
        // Rule K before any password work: the name validated, then per address, and per
        // name. Then the DPoP proof's own checks and nonce (SPEC §9): a refusal for the
        // proof must never tell a guesser that the password was right.
        let attempt = self
            .service
            .attempt_login(&username, request.client_ip)
            .await?
            .with_proof(proof.as_ref().map(DpopInput::request))?;
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(InputError::TooLong {
                field: "password",
                max: MAX_PASSWORD_BYTES,
                unit: "bytes",
            }
            .into());
        }
        let verified = self
            .gate
            .verify(Arc::clone(&self.users), username, password)
            .await?;
        if !verified {
            return Err(Error::InvalidCredentials);
        }
        let login = attempt
            .login(LoginRequest::new(info).transport(transport))
            .await?;
        let mut response = api.token_response(&login.tokens);
        // RFC 9449 section 8: a token endpoint may hand out the next nonce with each answer.
        if let Some(nonce) = self.service.dpop_nonce() {
            response.push_header("dpop-nonce", nonce);
        }
        Ok(response)
    }

    /// `GET /me`: the acting device's user and id (with `dpop_nonce` on, the next server
    /// nonce when the proof's is past half its life, RFC 9449 section 8.2).
    pub fn me(acting: &Authenticated) -> ApiResponse {
        let me = Me {
            user_id: acting.device.user_id.as_str(),
            device_id: acting.device.id,
        };
        let mut response = ApiResponse::json(200, &me);
        if let Some(nonce) = &acting.dpop_nonce {
            response.push_header("dpop-nonce", nonce.clone());
        }
        response
    }
}

/// The document `GET /openapi.json` serves: the library's routes and this server's.
fn openapi_json() -> Vec<u8> {
    use serde_json::json;
    use trusted_devices_core::TokenPair;
    use trusted_devices_core::http::openapi::OpenApiDocument;

    let mut document = OpenApiDocument::new();
    document.add_schema::<LoginBody>();
    document.add_schema::<Me<'_>>();
    let text = |description: &str| json!({"200": {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}});
    let mut login_responses = OpenApiDocument::problem_responses(&[
        "invalid_credentials",
        "too_many_devices",
        "rate_limited",
        "invalid_request",
        "csrf_rejected",
        "dpop_invalid",
        "storage_unavailable",
    ]);
    OpenApiDocument::add_use_nonce(&mut login_responses);
    login_responses.insert(
        "200".to_owned(),
        json!({"description": "a token pair, or with X-Token-Transport: cookie the two cookies",
            "content": {"application/json": {"schema": OpenApiDocument::schema_ref::<TokenPair>()}}}),
    );
    document.add_operation("POST", "/auth/login", json!({
        "operationId": "Login",
        "summary": "Sign a demo user in: a new device and its first token pair (rule L)",
        "requestBody": {"required": true, "content": {"application/json": {
            "schema": OpenApiDocument::schema_ref::<LoginBody>()}}},
        "parameters": [
            {"name": "X-Device-Name", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 100}},
            {"name": "X-Token-Transport", "in": "header", "required": false, "schema": {"type": "string", "enum": ["bearer", "cookie"]}},
            {"name": "DPoP", "in": "header", "required": false, "description": "a DPoP proof (RFC 9449) of this request: binds the new device to its key (SPEC §9), checked before the password", "schema": {"type": "string"}},
        ],
        "responses": login_responses,
    }));
    let mut me_responses = OpenApiDocument::problem_responses(&[
        "token_missing",
        "token_invalid",
        "token_expired",
        "device_revoked",
        "storage_unavailable",
    ]);
    me_responses.insert(
        "200".to_owned(),
        json!({"description": "the acting device's user and id",
            "content": {"application/json": {"schema": OpenApiDocument::schema_ref::<Me<'_>>()}}}),
    );
    document.add_operation(
        "GET",
        "/me",
        json!({
            "operationId": "Me", "summary": "Who the acting device is", "responses": me_responses,
            "security": [{"bearer": []}, {"cookie": []}],
        }),
    );
    document.add_operation("GET", "/health", json!({
        "operationId": "Health", "summary": "Whether the server answers", "responses": text("ok"),
    }));
    document.add_operation("GET", "/openapi.json", json!({
        "operationId": "OpenApi", "summary": "This document",
        "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
    }));
    serde_json::to_vec(document.json()).unwrap_or_default()
}
