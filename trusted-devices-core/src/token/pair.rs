use std::fmt;

use serde::Serialize;

use crate::domain::DeviceId;
use crate::token::RefreshToken;

/// What login and refresh return (SPEC §6 "token pair").
#[derive(Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    /// The signed JWT.
    pub access_token: String,
    /// The opaque refresh token; its `Debug` is redacted.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub refresh_token: RefreshToken,
    /// `"Bearer"`, or `"DPoP"` for a device bound to a key (SPEC §9).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Bearer"))]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The device both tokens belong to.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub device_id: DeviceId,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("device_id", &self.device_id)
            .finish()
    }
}
