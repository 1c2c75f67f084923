use serde::{Deserialize, Serialize};

use crate::token::Transport;

/// The claims of an access token (SPEC rule T).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// The device id (hyphenated UUID).
    pub did: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// A unique token id.
    pub jti: String,
    /// The transport the token was issued for (`tsp`): absent for bearer tokens, so that
    /// they are plain RFC 7519 tokens; `"cookie"` for cookie tokens (SPEC §8).
    #[serde(default, rename = "tsp", skip_serializing_if = "Transport::is_bearer")]
    pub transport: Transport,
    /// For a key-bound device (SPEC §9): `{"jkt": <thumbprint>}` (RFC 9449 section 6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// The confirmation claim of a DPoP-bound access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The RFC 7638 thumbprint of the device's key.
    pub jkt: String,
}
