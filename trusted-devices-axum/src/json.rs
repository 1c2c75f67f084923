use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use trusted_devices_core::InputError;
use trusted_devices_core::http::{MAX_BODY_BYTES, parse_body};

use crate::response::ApiError;

/// A JSON body read as the library's own routes read theirs, for the application's routes:
/// at most [`MAX_BODY_BYTES`], a JSON object only (an array is not read field by field),
/// refused as problem+json `invalid_request` (400 for broken JSON or an oversized body,
/// 422 for a body of the wrong shape). Put `#[serde(deny_unknown_fields)]` on `T` to
/// refuse unknown fields as well. Unlike axum's `Json`, the `Content-Type` is not checked:
/// the library's routes do not check it either.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        // One byte over the limit is enough to know the body is too large.
        let body = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES + 1)
            .await
            .map_err(|_| InputError::BodyTooLarge {
                max: MAX_BODY_BYTES,
            })?;
        Ok(Self(parse_body(&body)?))
    }
}
