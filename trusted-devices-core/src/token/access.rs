//! JWT (RFC 7519) access tokens, HS256 only, with `kid` key selection.
//!
//! Written against `hmac`, `sha2` and `serde_json` rather than a JWT crate: the format is
//! fixed to one algorithm, and owning the parser lets every malformed input become
//! `token_invalid` before any allocation larger than the 4 KiB bound.

use chrono::{DateTime, TimeDelta, Utc};
use hmac::Mac;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::token::{AccessClaims, KeyRing, b64_decode, b64_encode};

/// Tokens longer than this are refused unread.
pub const ACCESS_TOKEN_MAX_BYTES: usize = 4096;

#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

#[derive(Deserialize)]
struct HeaderIn {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    kid: String,
    /// Critical extensions this verifier would have to understand: it understands none.
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// Signs and verifies access tokens with a [`KeyRing`].
#[derive(Debug, Clone)]
pub struct AccessTokenCodec {
    keys: KeyRing,
}

impl AccessTokenCodec {
    /// A codec over these keys.
    #[must_use]
    pub fn new(keys: KeyRing) -> Self {
        Self { keys }
    }

    /// The keys.
    #[must_use]
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Signs `claims` with the active key.
    #[must_use]
    pub fn sign(&self, claims: &AccessClaims) -> String {
        let key = self.keys.active();
        let header = HeaderOut {
            alg: "HS256",
            typ: "JWT",
            kid: key.kid(),
        };
        // Serializing these plain structs cannot fail; an empty object would fail verify.
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let claims = serde_json::to_vec(claims).unwrap_or_default();
        let signing_input = format!("{}.{}", b64_encode(&header), b64_encode(&claims));
        let signature = key.mac().chain_update(signing_input.as_bytes()).finalize();
        format!("{signing_input}.{}", b64_encode(&signature.into_bytes()))
    }

    /// Verifies signature, algorithm, key and expiry (`exp + leeway` must be after `now`).
    ///
    /// Every malformed or forged token is [`Error::TokenInvalid`]; a genuine one past its
    /// expiry is [`Error::TokenExpired`].
    pub fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
        leeway: TimeDelta,
    ) -> Result<AccessClaims, Error> {
        let claims = self.verify_signature(token).ok_or(Error::TokenInvalid)?;
        let expires = DateTime::from_timestamp(claims.exp, 0).ok_or(Error::TokenInvalid)?;
        let expires_with_leeway = expires.checked_add_signed(leeway).unwrap_or(expires);
        if now >= expires_with_leeway {
            return Err(Error::TokenExpired);
        }
        Ok(claims)
    }

    fn verify_signature(&self, token: &str) -> Option<AccessClaims> {
        if token.len() > ACCESS_TOKEN_MAX_BYTES {
            return None;
        }
        let mut parts = token.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: HeaderIn = serde_json::from_slice(&b64_decode(header)?).ok()?;
        let typ_ok = header.typ.as_deref().is_none_or(|typ| typ == "JWT");
        if header.alg != "HS256" || !typ_ok || header.crit.is_some() {
            return None;
        }
        let key = self.keys.find(&header.kid)?;
        let signing_input_len = token.len() - signature.len() - 1;
        let signing_input = token.get(..signing_input_len)?;
        key.mac()
            .chain_update(signing_input.as_bytes())
            .verify_slice(&b64_decode(signature)?)
            .ok()?;
        serde_json::from_slice(&b64_decode(claims)?).ok()
    }
}
