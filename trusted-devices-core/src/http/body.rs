//! Strict, bounded JSON bodies: unknown fields, wrong types and oversized input are
//! `invalid_request`.

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
    serde_json::from_slice(body).map_err(|json| InputError::Body(json).into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshBody {
    pub(crate) refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyBody {
    pub(crate) token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    can_delete_other_devices: Option<bool>,
    #[serde(default)]
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
