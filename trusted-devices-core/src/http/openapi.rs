//! OpenAPI 3.1 for SPEC §6 (feature `openapi`): the bodies' and answers' schemas are
//! derived from their Rust types by `utoipa`, the paths come from [`Endpoint`], and the
//! error codes from [`Error::CODES`]; nothing here restates a field or a code.
//! Applications add their own routes ([`OpenApiDocument::add_operation`]) before serving
//! it (the example servers at `/openapi.json`).

use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::Error;
use crate::http::Endpoint;
use crate::http::activity::{ActivityView, EntryView};
use crate::http::body::{PatchBody, RefreshBody, VerifyBody};
use crate::http::response::{Problem, UseNonce};
pub use crate::http::schema::{ActivityKind, ErrorCode};
use crate::http::views::{
    ConfirmationView, CookieSessionView, DeviceView, LocationView, RevokedView, VerifiedView,
};
use crate::token::TokenPair;

/// An OpenAPI 3.1 document as JSON, built from the code.
#[derive(Debug, Clone)]
pub struct OpenApiDocument {
    document: Value,
}

fn reference<T: ToSchema>() -> Value {
    json!({"$ref": format!("#/components/schemas/{}", T::name())})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// The codes a route may answer, by status: every code but those of other routes.
fn codes_of(endpoint: Endpoint) -> Vec<(&'static str, u16)> {
    let refresh_only = |code: &str| code.starts_with("refresh_token_");
    let login_only = |code: &str| matches!(code, "invalid_credentials" | "too_many_devices");
    let rule_a = |code: &str| {
        code.ends_with("_too_soon") || code.starts_with("global_") || code == "permission_denied"
    };
    Error::CODES
        .iter()
        .copied()
        .filter(|(code, _)| !login_only(code))
        .filter(|(code, _)| match endpoint {
            Endpoint::Refresh | Endpoint::SignOut => {
                !rule_a(code) && !code.starts_with("token_") && *code != "device_not_found"
            }
            Endpoint::Verify => {
                !refresh_only(code)
                    && !rule_a(code)
                    && !matches!(*code, "csrf_rejected" | "device_not_found")
            }
            Endpoint::UpdateDevice | Endpoint::DeleteDevice => !refresh_only(code),
            Endpoint::RevokeOthers => !refresh_only(code) && *code != "device_not_found",
            _ => !refresh_only(code) && !rule_a(code) && *code != "rate_limited",
        })
        .collect()
}

/// The problem responses of `codes`, one per status, naming its codes.
fn problems(codes: &[(&'static str, u16)]) -> Map<String, Value> {
    let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
    for (code, status) in codes {
        by_status.entry(*status).or_default().push(code);
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let response = json!({
                "description": format!("problem+json with `code` {}", codes.join(", ")),
                "content": {"application/problem+json": {"schema": reference::<Problem<'_>>()}},
            });
            (status.to_string(), response)
        })
        .collect()
}

fn operation(endpoint: Endpoint) -> Value {
    let (summary, body, success): (&str, Option<Value>, (&str, Option<Value>)) = match endpoint {
        Endpoint::Refresh => (
            "Rotate a refresh token (rule R); cookie clients send an empty body",
            Some(reference::<RefreshBody>()),
            (
                "200",
                Some(
                    json!({"oneOf": [reference::<TokenPair>(), reference::<CookieSessionView>()]}),
                ),
            ),
        ),
        Endpoint::SignOut => (
            "Sign the device out with its refresh token alone; cookie clients send an empty \
             body, and every answer clears both cookies",
            Some(reference::<RefreshBody>()),
            ("204", None),
        ),
        Endpoint::Verify => (
            "Whether an access token is valid now (rule V)",
            Some(reference::<VerifyBody>()),
            ("200", Some(reference::<VerifiedView<'_>>())),
        ),
        Endpoint::ListDevices => (
            "The user's devices, the acting one with current: true",
            None,
            (
                "200",
                Some(json!({"type": "array", "items": reference::<DeviceView<'_>>()})),
            ),
        ),
        Endpoint::GetDevice => (
            "One device of the user",
            None,
            ("200", Some(reference::<DeviceView<'_>>())),
        ),
        Endpoint::UpdateDevice => (
            "Rename a device or change its permission flags (rule A)",
            Some(reference::<PatchBody>()),
            ("200", Some(reference::<DeviceView<'_>>())),
        ),
        Endpoint::DeleteDevice => ("Revoke a device (rule A)", None, ("204", None)),
        Endpoint::Logout => ("Revoke the acting device", None, ("204", None)),
        Endpoint::RevokeOthers => (
            "Revoke every other device of the user (rule A)",
            None,
            ("200", Some(reference::<RevokedView>())),
        ),
        Endpoint::Activity => (
            "The user's history, newest first (rule H)",
            None,
            ("200", Some(reference::<ActivityView<'_>>())),
        ),
    };
    let mut responses = problems(&codes_of(endpoint));
    let mut ok = Map::new();
    ok.insert("description".to_owned(), json!("success"));
    if let Some(schema) = success.1 {
        ok.insert("content".to_owned(), json_content(schema));
    }
    responses.insert(success.0.to_owned(), Value::Object(ok));
    if endpoint.issues_tokens() {
        OpenApiDocument::add_use_nonce(&mut responses);
    }
    let mut operation = Map::new();
    operation.insert("operationId".to_owned(), json!(format!("{endpoint:?}")));
    operation.insert("summary".to_owned(), json!(summary));
    operation.insert("responses".to_owned(), Value::Object(responses));
    if let Some(schema) = body {
        let request = json!({"required": true, "content": json_content(schema)});
        operation.insert("requestBody".to_owned(), request);
    }
    if endpoint.needs_bearer() {
        let security = json!([{"bearer": []}, {"cookie": []}, {"dpop": []}]);
        operation.insert("security".to_owned(), security);
    }
    let mut parameters = Vec::new();
    if endpoint.needs_bearer() || matches!(endpoint, Endpoint::Refresh | Endpoint::SignOut) {
        parameters.push(json!({"name": "DPoP", "in": "header", "required": false,
            "description": "a DPoP proof (RFC 9449) for this request, by the key of a key-bound \
                device (SPEC §9): required with `Authorization: DPoP` and for a bound \
                device's refresh; exactly one",
            "schema": {"type": "string"}}));
    }
    if endpoint.path().contains("{id}") {
        parameters.push(json!({"name": "id", "in": "path", "required": true,
            "schema": {"type": "string", "format": "uuid"}}));
    }
    if endpoint == Endpoint::Activity {
        parameters.push(json!({"name": "cursor", "in": "query", "required": false,
            "description": "a previous page's next_cursor", "schema": {"type": "string"}}));
        parameters.push(json!({"name": "limit", "in": "query", "required": false,
            "schema": {"type": "integer", "minimum": 1, "maximum": crate::audit::AUDIT_PAGE_MAX, "default": 20}}));
    }
    if !parameters.is_empty() {
        operation.insert("parameters".to_owned(), Value::Array(parameters));
    }
    Value::Object(operation)
}

/// The object at `path` inside `value`, made (as empty objects) where missing; `None` only
/// where something other than an object is in the way.
fn object_at<'v>(value: &'v mut Value, path: &[&str]) -> Option<&'v mut Map<String, Value>> {
    let mut object = value.as_object_mut()?;
    for key in path {
        object = object
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()?;
    }
    Some(object)
}

impl OpenApiDocument {
    /// Every route, body, answer and error code of SPEC §6.
    #[must_use]
    pub fn new() -> Self {
        let mut document = json!({
            "openapi": "3.1.0",
            "info": {
                "title": "trusted-devices",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "Trusted devices: every login a named device that its user can see, rename and revoke.",
            },
            "paths": {},
            "components": {
                "schemas": {},
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    "cookie": {"type": "apiKey", "in": "cookie", "name": "__Host-td_access",
                        "description": "the browser transport's access cookie (SPEC §8)"},
                    // No `bearerFormat`: OpenAPI 3.1 allows it with `scheme: bearer` only.
                    "dpop": {"type": "http", "scheme": "dpop",
                        "description": "`Authorization: DPoP <token>` (the token a JWT) with a `DPoP` proof header, for a key-bound device (SPEC §9, RFC 9449); failures are 401 `dpop_invalid` with `WWW-Authenticate: DPoP`"},
                },
            },
        });
        let mut this = Self {
            document: Value::Null,
        };
        std::mem::swap(&mut this.document, &mut document);
        this.add_schema::<DeviceView<'_>>();
        this.add_schema::<LocationView<'_>>();
        this.add_schema::<VerifiedView<'_>>();
        this.add_schema::<ConfirmationView<'_>>();
        this.add_schema::<RevokedView>();
        this.add_schema::<ActivityView<'_>>();
        this.add_schema::<EntryView<'_>>();
        this.add_schema::<TokenPair>();
        this.add_schema::<CookieSessionView>();
        this.add_schema::<Problem<'_>>();
        this.add_schema::<UseNonce>();
        this.add_schema::<RefreshBody>();
        this.add_schema::<VerifyBody>();
        this.add_schema::<PatchBody>();
        this.add_schema::<ErrorCode>();
        this.add_schema::<ActivityKind>();
        for endpoint in Endpoint::ALL {
            this.add_operation(endpoint.method(), endpoint.path(), operation(endpoint));
        }
        this
    }

    /// Adds `T`'s derived schema under its name.
    pub fn add_schema<T: ToSchema>(&mut self) {
        let schema = serde_json::to_value(T::schema()).unwrap_or(Value::Null);
        if let Some(schemas) = object_at(&mut self.document, &["components", "schemas"]) {
            schemas.insert(T::name().into_owned(), schema);
        }
    }

    /// Adds an operation (an OpenAPI operation object) at `method` and `path`.
    pub fn add_operation(&mut self, method: &str, path: &str, operation: Value) {
        if let Some(item) = object_at(&mut self.document, &["paths", path]) {
            item.insert(method.to_ascii_lowercase(), operation);
        }
    }

    /// A `$ref` to a schema added with [`add_schema`](Self::add_schema).
    #[must_use]
    pub fn schema_ref<T: ToSchema>() -> Value {
        reference::<T>()
    }

    /// The problem responses for these codes (one per status), for an application's
    /// own operations.
    #[must_use]
    pub fn problem_responses(codes: &[&str]) -> Map<String, Value> {
        let known: Vec<(&'static str, u16)> = Error::CODES
            .iter()
            .copied()
            .filter(|(code, _)| codes.contains(code))
            .collect();
        problems(&known)
    }

    /// Adds to the responses of a route that issues tokens RFC 9449 section 8's answer to
    /// a missing or stale server nonce: 400 `{"error": "use_dpop_nonce"}` with a
    /// `DPoP-Nonce` header, beside the problem+json of other 400s (SPEC §9).
    pub fn add_use_nonce(responses: &mut Map<String, Value>) {
        let entry = responses
            .entry("400".to_owned())
            .or_insert_with(|| json!({"description": "a bad request"}));
        let Some(response) = entry.as_object_mut() else {
            return;
        };
        let description = response
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("a bad request")
            .to_owned();
        response.insert(
            "description".to_owned(),
            json!(format!(
                "{description}; or, with server nonces on, `{{\"error\": \"use_dpop_nonce\"}}` \
                 with a fresh nonce in `DPoP-Nonce` (RFC 9449 section 8)"
            )),
        );
        let content = response
            .entry("content".to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(content) = content.as_object_mut() {
            content.insert(
                "application/json".to_owned(),
                json!({"schema": reference::<UseNonce>()}),
            );
        }
        response.insert(
            "headers".to_owned(),
            json!({"DPoP-Nonce": {"description": "the nonce to put in the next proof",
                "schema": {"type": "string"}}}),
        );
    }

    /// The document.
    #[must_use]
    pub fn json(&self) -> &Value {
        &self.document
    }
}

impl Default for OpenApiDocument {
    fn default() -> Self {
        Self::new()
    }
}
