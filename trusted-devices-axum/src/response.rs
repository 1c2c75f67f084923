use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use trusted_devices_core::Error;
use trusted_devices_core::http::ApiResponse;

/// Writes the core's neutral response as an axum response, as it is.
#[must_use]
pub fn into_response(api: ApiResponse) -> Response {
    let status = StatusCode::from_u16(api.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = Response::new(Body::from(api.body));
    *response.status_mut() = status;
    for (name, value) in api.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .append(HeaderName::from_static(name), value);
        }
    }
    response
}

/// Any core error as its RFC 9457 problem+json response (status, `code`, `Retry-After`,
/// `WWW-Authenticate`), for handlers and extractors.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        into_response(ApiResponse::error(&self.0))
    }
}
