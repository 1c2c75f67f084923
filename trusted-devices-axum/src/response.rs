use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use trusted_devices_core::http::ApiResponse;
use trusted_devices_core::{Error, TokenPair};

/// Writes the core's neutral response as an axum response, as it is.
#[must_use]
pub fn into_response(api: ApiResponse) -> Response {
    let status = StatusCode::from_u16(api.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = Response::new(Body::from(api.body));
    *response.status_mut() = status;
    for (name, value) in api.headers {
        if let Some(value) = header_value(value) {
            response
                .headers_mut()
                .append(HeaderName::from_static(name), value);
        }
    }
    response
}

/// Any core error as its RFC 9457 problem+json response (status, `code`, `Retry-After`,
/// `WWW-Authenticate`), for handlers and extractors: `?` works on the core's [`Error`] and
/// [`InputError`](trusted_devices_core::InputError) in a handler returning `Result<_, ApiError>`.
#[derive(Debug)]
pub struct ApiError(pub Error);

/// The core's `Error`, or anything that converts into it (`InputError`, `StorageError`).
impl<E: Into<Error>> From<E> for ApiError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        into_response(ApiResponse::error(&self.0))
    }
}

/// A token pair as the 200 JSON answer of SPEC §6 (`Cache-Control: no-store`), for the
/// application's own login handler: return `Tokens::from(outcome)` after
/// [`TrustedDevices::login`](trusted_devices_core::TrustedDevices::login).
///
/// A newtype because neither `TokenPair` nor axum's `IntoResponse` belongs to this crate,
/// and the core depends on no web framework.
#[derive(Debug)]
pub struct Tokens(pub TokenPair);

/// A `TokenPair`, or a `LoginOutcome`'s.
impl<T: Into<TokenPair>> From<T> for Tokens {
    fn from(tokens: T) -> Self {
        Self(tokens.into())
    }
}

impl IntoResponse for Tokens {
    fn into_response(self) -> Response {
        into_response(ApiResponse::token_pair(&self.0))
    }
}

/// A header value without copying it: static text is used in place, owned text moved in.
/// `None` for text no header may hold.
fn header_value(value: Cow<'static, str>) -> Option<HeaderValue> {
    let bytes = match value {
        Cow::Borrowed(text) => Bytes::from_static(text.as_bytes()),
        Cow::Owned(text) => Bytes::from(text),
    };
    HeaderValue::from_maybe_shared(bytes).ok()
}
