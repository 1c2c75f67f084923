//! JWT (RFC 7519) access tokens, HS256 only, with `kid` key selection.
//!
//! Written against `hmac`, `sha2` and `serde_json` rather than a JWT crate: the format is
//! fixed to one algorithm, and owning the parser lets every malformed input become
//! `token_invalid` before any allocation larger than the 4 KiB bound.

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::Mac;
use serde::{Deserialize, Serialize};

use crate::domain::DeviceId;
use crate::error::Error;
use crate::token::claims_layout;
use crate::token::{
    AccessClaims, KeyRing, SigningKey, Transport, b64_decode, b64_decode_into, b64_encode,
};

/// Tokens longer than this are refused unread.
pub const ACCESS_TOKEN_MAX_BYTES: usize = 4096;

#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

#[derive(Deserialize)]
struct HeaderIn<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Cow<'a, str>,
    /// Critical extensions this verifier would have to understand: it understands none.
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// The base64url header this library writes for `kid`.
pub(crate) fn encoded_header(kid: &str) -> String {
    let header = HeaderOut {
        alg: "HS256",
        typ: "JWT",
        kid,
    };
    // Serializing this plain struct cannot fail; an empty header would fail verify.
    b64_encode(&serde_json::to_vec(&header).unwrap_or_default())
}

/// The claims as read for a check: borrowed from the decoded token where JSON allows.
#[derive(Deserialize)]
struct ClaimsIn<'a> {
    #[serde(borrow)]
    sub: Cow<'a, str>,
    #[serde(borrow)]
    did: Cow<'a, str>,
    iat: i64,
    exp: i64,
    /// Required like the other claims, though a check does not use it.
    #[serde(borrow, rename = "jti")]
    _jti: Cow<'a, str>,
    #[serde(default, rename = "tsp")]
    transport: Transport,
}

/// What a request's authentication needs of a verified token, without the claims it does
/// not use, borrowed from the caller's [`ClaimsScratch`]: nothing is allocated for a token
/// this library signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedClaims<'b> {
    pub(crate) sub: Cow<'b, str>,
    pub(crate) device_id: DeviceId,
    pub(crate) times: TokenTimes,
    pub(crate) transport: Transport,
}

/// When a verified token was issued and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenTimes {
    /// `iat`, in seconds since the epoch.
    pub(crate) issued_at: i64,
    /// `exp`, as the instant it already had to be read as.
    pub(crate) expires_at: DateTime<Utc>,
}

/// Where a check decodes the claims: on the stack for every token this library signs, on
/// the heap for a larger one. The caller owns it, so that the claims stay borrowed while
/// the device is read.
pub(crate) struct ClaimsScratch {
    stack: [u8; CLAIMS_BUFFER],
    heap: Vec<u8>,
}

impl ClaimsScratch {
    pub(crate) const fn new() -> Self {
        Self {
            stack: [0; CLAIMS_BUFFER],
            heap: Vec::new(),
        }
    }

    /// The decoded claims segment.
    fn decode<'s>(&'s mut self, claims: &str) -> Option<&'s [u8]> {
        match b64_decode_into(claims, &mut self.stack) {
            Some(len) => self.stack.get(..len),
            None => {
                self.heap = b64_decode(claims)?;
                Some(&self.heap)
            }
        }
    }
}

/// An HS256 signature (32 bytes) in base64url without padding.
const SIGNATURE_CHARS: usize = 43;

/// Claims of every token this library signs fit here; a larger one is decoded on the heap.
const CLAIMS_BUFFER: usize = 512;

/// A token with this `exp` is still good at `now` while `now < exp + leeway`; past that it
/// is `token_expired`. An `exp` no instant can hold is `token_invalid`. Returns `exp` as an
/// instant.
///
/// Compared in whole microseconds (every instant here is one): integer arithmetic where
/// building a date from `exp` first cost a tenth of a request's verification.
fn unexpired(exp: i64, now: DateTime<Utc>, leeway: TimeDelta) -> Result<DateTime<Utc>, Error> {
    let last_good = exp
        .checked_mul(1_000_000)
        .and_then(|exp| exp.checked_add(leeway.num_microseconds().unwrap_or(0)))
        .ok_or(Error::TokenInvalid)?;
    if now.timestamp_micros() >= last_good {
        return Err(Error::TokenExpired);
    }
    DateTime::from_timestamp(exp, 0).ok_or(Error::TokenInvalid)
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
        // Serializing this plain struct cannot fail; empty claims would fail verify.
        let claims = serde_json::to_vec(claims).unwrap_or_default();
        let signing_input = format!("{}.{}", key.encoded_header(), b64_encode(&claims));
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
        let claims = self.signed_claims(token).ok_or(Error::TokenInvalid)?;
        let json = b64_decode(claims).ok_or(Error::TokenInvalid)?;
        let claims: AccessClaims =
            serde_json::from_slice(&json).map_err(|_| Error::TokenInvalid)?;
        unexpired(claims.exp, now, leeway)?;
        Ok(claims)
    }

    /// [`verify`](Self::verify) for a request: the same checks, reading only what
    /// authentication needs, into `scratch`.
    pub(crate) fn check<'s>(
        &self,
        token: &str,
        now: DateTime<Utc>,
        leeway: TimeDelta,
        scratch: &'s mut ClaimsScratch,
    ) -> Result<CheckedClaims<'s>, Error> {
        let claims = self.signed_claims(token).ok_or(Error::TokenInvalid)?;
        let json = scratch.decode(claims).ok_or(Error::TokenInvalid)?;
        // This library's own layout is read by a scan; anything else is parsed as JSON.
        let (sub, did, iat, exp, transport) = match claims_layout::read(json) {
            Some(laid_out) => (
                Cow::Borrowed(laid_out.sub),
                Cow::Borrowed(laid_out.did),
                laid_out.iat,
                laid_out.exp,
                laid_out.transport,
            ),
            None => {
                let parsed =
                    serde_json::from_slice::<ClaimsIn>(json).map_err(|_| Error::TokenInvalid)?;
                (
                    parsed.sub,
                    parsed.did,
                    parsed.iat,
                    parsed.exp,
                    parsed.transport,
                )
            }
        };
        let expires_at = unexpired(exp, now, leeway)?;
        Ok(CheckedClaims {
            sub,
            device_id: DeviceId::from_ascii(did.as_bytes()).ok_or(Error::TokenInvalid)?,
            times: TokenTimes {
                issued_at: iat,
                expires_at,
            },
            transport,
        })
    }

    /// The claims segment of `token` once its header and signature are checked.
    ///
    /// Found without searching the token: the signature is its last 43 characters after a
    /// dot (an HS256 signature has no other length), and a token this library signed
    /// begins with its key's own header. A dot anywhere else makes a segment that base64url
    /// refuses, so a token of more than three segments is still refused.
    fn signed_claims<'t>(&self, token: &'t str) -> Option<&'t str> {
        if token.len() > ACCESS_TOKEN_MAX_BYTES {
            return None;
        }
        let signing_input_len = token.len().checked_sub(SIGNATURE_CHARS + 1)?;
        let (signing_input, signature) = token.split_at_checked(signing_input_len)?;
        let signature = signature.strip_prefix('.')?;
        let (key, claims) = match self.keys.find_by_encoded_header(signing_input) {
            Some(found) => found,
            None => {
                let (header, claims) = signing_input.split_once('.')?;
                (self.key_of_parsed_header(header)?, claims)
            }
        };
        let mut mac = [0u8; 32];
        if b64_decode_into(signature, &mut mac)? != mac.len() {
            return None;
        }
        key.mac()
            .chain_update(signing_input.as_bytes())
            .verify_slice(&mac)
            .ok()?;
        Some(claims)
    }

    /// A header written by another JWT library (other spacing or field order): parsed, and
    /// held to the same rules.
    fn key_of_parsed_header(&self, header: &str) -> Option<&SigningKey> {
        let bytes = b64_decode(header)?;
        let header: HeaderIn = serde_json::from_slice(&bytes).ok()?;
        let typ_ok = header.typ.as_deref().is_none_or(|typ| typ == "JWT");
        if header.alg != "HS256" || !typ_ok || header.crit.is_some() {
            return None;
        }
        self.keys.find(&header.kid)
    }
}
