use std::borrow::Cow;

use serde::Serialize;

use crate::error::Error;
use crate::token::TokenPair;

/// A response to write back as it is: status, headers, body. Its `Debug` shows the body's
/// length only: a token pair's body holds secrets. Every constructor sets
/// `Cache-Control: no-store`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// The body (empty for 204).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// RFC 9457 problem details with this library's `code` (SPEC §6).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::http::schema::ErrorCode))]
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

/// RFC 9449 section 8's answer of a token endpoint that wants a nonce (an OAuth error
/// body, with this library's `code` beside it).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct UseNonce {
    error: &'static str,
    code: &'static str,
    error_description: &'static str,
}

impl ApiResponse {
    /// `status` with `value` as a JSON body.
    #[must_use]
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self {
                status,
                headers: vec![
                    ("content-type", Cow::Borrowed("application/json")),
                    no_store(),
                ],
                body,
            },
            // Our views always serialize; should one not, answer without a body, never panic.
            Err(_) => Self::empty(500),
        }
    }

    /// `status` with no body.
    #[must_use]
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: vec![no_store()],
            body: Vec::new(),
        }
    }

    /// 200 with a token pair.
    #[must_use]
    pub fn token_pair(tokens: &TokenPair) -> Self {
        Self::json(200, tokens)
    }

    /// An RFC 9457 problem with the error's code, status and headers.
    #[must_use]
    pub fn error(error: &Error) -> Self {
        // Every refusal answered over HTTP passes here: the one place to count the
        // storage failures clients saw.
        if matches!(error, Error::StorageUnavailable(_)) {
            crate::telemetry::count_storage_error();
        }
        let retry_after = error.retry_after();
        let mut response = Self::problem_with(
            error.status(),
            error.code(),
            &error.to_string(),
            retry_after,
        );
        if let Some(seconds) = retry_after {
            response.push_header("retry-after", seconds.to_string());
        }
        if error.is_bearer_challenge() {
            let challenge = "Bearer error=\"invalid_token\"";
            response.push_header("www-authenticate", challenge);
        }
        if let Some((challenge, nonce)) = error.dpop_challenge() {
            let challenge = format!("DPoP error=\"{challenge}\", algs=\"ES256 EdDSA\"");
            response.push_header("www-authenticate", challenge);
            if let Some(nonce) = nonce {
                response.push_header("dpop-nonce", nonce.to_owned());
            }
        }
        response
    }

    /// An error of a route that issues tokens (login, refresh): as [`error`](Self::error),
    /// but a missing or stale server nonce is answered as RFC 9449 section 8 has an
    /// authorization server answer, 400 `{"error": "use_dpop_nonce", "code":
    /// "use_dpop_nonce"}` with a `DPoP-Nonce` header, so that OAuth client libraries retry
    /// by themselves.
    #[must_use]
    pub fn token_route_error(error: &Error) -> Self {
        let Error::DpopInvalid(crate::dpop::ProofError::UseNonce { nonce }) = error else {
            return Self::error(error);
        };
        let mut response = Self::json(
            400,
            &UseNonce {
                error: "use_dpop_nonce",
                code: "use_dpop_nonce",
                error_description: "a fresh DPoP nonce is required",
            },
        );
        response.push_header("dpop-nonce", nonce.clone());
        response
    }

    /// A problem of the application's own (for instance `invalid_credentials` at login).
    #[must_use]
    pub fn problem(status: u16, code: &str, detail: &str) -> Self {
        Self::problem_with(status, code, detail, None)
    }

    fn problem_with(status: u16, code: &str, detail: &str, retry_after: Option<u64>) -> Self {
        let problem = Problem {
            kind: format!("urn:trusted-devices:problem:{code}"),
            title: title(code),
            status,
            detail: detail.to_owned(),
            code,
            retry_after,
        };
        let mut response = Self::json(status, &problem);
        response.headers = vec![
            ("content-type", "application/problem+json".into()),
            no_store(),
        ];
        response
    }

    /// Adds a header (`name` in lower case); static text is written without a copy.
    pub fn push_header(&mut self, name: &'static str, value: impl Into<Cow<'static, str>>) {
        self.headers.push((name, value.into()));
    }

    /// The first value of a header, by lower-case name.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_ref())
    }
}

/// Every response of this API carries tokens, device data or an answer about them (errors
/// included), so none may be kept by a browser or a shared cache.
fn no_store() -> (&'static str, Cow<'static, str>) {
    ("cache-control", Cow::Borrowed("no-store"))
}

/// "token_invalid" → "Token invalid".
fn title(code: &str) -> String {
    let words = code.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
