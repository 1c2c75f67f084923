//! Strict, bounded JSON bodies: anything but a JSON object, unknown fields, wrong types,
//! `null` for an optional field and oversized input are `invalid_request`.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::domain::{DeviceName, DevicePatch};
use crate::error::{Error, InputError};

/// The largest body any route accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Parses a JSON body strictly and within [`MAX_BODY_BYTES`]: for an application's own
/// routes (a login), with the same `invalid_request` answers as the library's routes.
/// Deny unknown fields on `T` to refuse them too.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.len() > MAX_BODY_BYTES {
        return Err(InputError::BodyTooLarge {
            max: MAX_BODY_BYTES,
        }
        .into());
    }
    if !starts_an_object(body) {
        // serde reads a JSON array into a struct field by field (`["pwned", false]` would be
        // a rename): only objects are bodies. Not JSON at all stays a syntax error (400).
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(InputError::Body)?;
        return Err(InputError::NotAnObject.into());
    }
    serde_json::from_slice(body).map_err(|json| InputError::Body(json).into())
}

fn starts_an_object(body: &[u8]) -> bool {
    body.iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|first| *first == b'{')
}

/// An optional field that may be absent but never `null`: a client sending `null` for a
/// name or flag most likely means something (reset? clear?) that this API does not do, so
/// it is refused rather than silently ignored. Use with `#[serde(default)]`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshBody {
    pub(crate) refresh_token: String,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyBody {
    pub(crate) token: String,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchBody {
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    can_delete_other_devices: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    can_update_other_devices: Option<bool>,
}

impl PatchBody {
    pub(crate) fn into_patch(self) -> Result<DevicePatch, Error> {
        Ok(DevicePatch {
            name: self.name.as_deref().map(DeviceName::new).transpose()?,
            can_delete_other_devices: self.can_delete_other_devices,
            can_update_other_devices: self.can_update_other_devices,
        })
    }
}
