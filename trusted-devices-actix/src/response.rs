use std::borrow::Cow;
use std::fmt;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use futures_util::{Stream, StreamExt as _};
use trusted_devices_core::http::{ApiResponse, MAX_BODY_BYTES};
use trusted_devices_core::{Error, InputError, TokenPair};

/// Writes the core's neutral response as an actix response, as it is.
#[must_use]
pub fn into_response(api: ApiResponse) -> HttpResponse {
    let status = StatusCode::from_u16(api.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = HttpResponse::build(status);
    for (name, value) in api.headers {
        if let Some(value) = header_value(value) {
            response.append_header((HeaderName::from_static(name), value));
        }
    }
    response.body(api.body)
}

/// Any core error as its RFC 9457 problem+json response (status, `code`, `Retry-After`,
/// `WWW-Authenticate`), for handlers and extractors: `?` works on the core's [`Error`] and
/// [`InputError`] in a handler returning `Result<_, ApiError>`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The core's `Error`, or anything that converts into it (`InputError`, `StorageError`).
impl<E: Into<Error>> From<E> for ApiError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
    }

    fn error_response(&self) -> HttpResponse {
        into_response(ApiResponse::error(&self.0))
    }
}

/// A token pair as the 200 JSON answer of SPEC §6 (`Cache-Control: no-store`), for the
/// application's own login handler: return `Tokens::from(outcome)` after
/// [`TrustedDevices::login`](trusted_devices_core::TrustedDevices::login).
///
/// A newtype because neither `TokenPair` nor actix's `Responder` belongs to this crate, and
/// the core depends on no web framework.
#[derive(Debug)]
pub struct Tokens(pub TokenPair);

/// A `TokenPair`, or a `LoginOutcome`'s.
impl<T: Into<TokenPair>> From<T> for Tokens {
    fn from(tokens: T) -> Self {
        Self(tokens.into())
    }
}

impl Responder for Tokens {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        into_response(ApiResponse::token_pair(&self.0))
    }
}

/// Reads a body up to [`MAX_BODY_BYTES`]; a larger one (or one that breaks off) is
/// `invalid_request`, as problem+json.
/// Takes `web::Payload` or the `dev::Payload` of an extractor alike.
pub async fn read_body<E>(
    mut payload: impl Stream<Item = Result<Bytes, E>> + Unpin,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError(Error::from(InputError::BodyTooLarge {
            max: MAX_BODY_BYTES,
        }))
    };
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| too_large())?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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
