use serde::{Deserialize, Serialize};

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
}
