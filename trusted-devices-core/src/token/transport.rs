//! How a token travels: in an `Authorization` header or a JSON body (bearer), or in an
//! `HttpOnly` cookie (SPEC §8). Every token records its transport and is refused on the
//! other one, so a token stolen from one channel cannot be replayed through the other.

use serde::{Deserialize, Serialize};

/// The channel a token was issued for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Transport {
    /// `Authorization: Bearer` for access tokens, a JSON body for refresh tokens (the default).
    #[default]
    Bearer,
    /// `HttpOnly` cookies, for browsers.
    Cookie,
}

impl Transport {
    /// Whether this is the bearer transport (the claim is then left out of the JWT).
    #[must_use]
    pub fn is_bearer(&self) -> bool {
        *self == Self::Bearer
    }

    /// What a refresh token's stored hash is bound to: nothing for bearer tokens (their
    /// hash is the SHA-256 of the text, as before), a label for cookie tokens, so the same
    /// text presented on the other transport matches no record.
    pub(crate) fn hash_label(self) -> &'static [u8] {
        match self {
            Self::Bearer => b"",
            Self::Cookie => b"trusted-devices cookie transport\0",
        }
    }
}
