use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use trusted_devices_core::http::parse_body;

use crate::response::{ApiError, read_body};

/// A JSON body read as the library's own routes read theirs, for the application's routes:
/// at most [`MAX_BODY_BYTES`](trusted_devices_core::http::MAX_BODY_BYTES), a JSON object
/// only (an array is not read field by field), refused as problem+json `invalid_request`
/// (400 for broken JSON or an oversized body, 422 for a body of the wrong shape). Put
/// `#[serde(deny_unknown_fields)]` on `T` to refuse unknown fields as well. Unlike actix's
/// `Json`, the `Content-Type` is not checked: the library's routes do not check it either.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(_: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let payload = payload.take();
        Box::pin(async move {
            let body = read_body(payload).await?;
            Ok(Self(parse_body(&body)?))
        })
    }
}
