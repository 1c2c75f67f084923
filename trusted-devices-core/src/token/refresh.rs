//! Opaque refresh tokens: `tdr_` + base64url(device id ‖ 32 random bytes).
//!
//! The device id in the clear lets a store route the token (a Redis hash tag, a partition)
//! without a global index; the 256 random bits are the secret. Stores keep only the
//! SHA-256 [`RefreshTokenHash`].
//!
//! Rule R asks a consumed token, replayed within the grace, to yield the **same** successor,
//! yet the successor must not be stored. So the successor's random part is stored
//! [sealed](SealedSuccessor): XORed with HMAC-SHA256 keyed by the consumed token. Only a
//! holder of the consumed token can unseal it; a copy of the database alone cannot.

use std::fmt;

use hmac::{KeyInit, Mac};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::DeviceId;
use crate::random::{self, RandomSource};
use crate::token::keys::HmacSha256;
use crate::token::{Transport, b64_decode, b64_encode};

const PREFIX: &str = "tdr_";
const SECRET_BYTES: usize = 32;
const RAW_BYTES: usize = 16 + SECRET_BYTES;
/// `tdr_` plus 64 base64url characters.
const TOKEN_CHARS: usize = PREFIX.len() + RAW_BYTES.div_ceil(3) * 4;
const SEAL_LABEL: &[u8] = b"trusted-devices refresh successor seal v1";

/// A refresh token in the clear. Handed to the client once; never stored, never logged: its
/// `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    text: String,
    device_id: DeviceId,
    secret: [u8; SECRET_BYTES],
    transport: Transport,
}

impl RefreshToken {
    /// A fresh bearer token for `device_id` with 256 random bits.
    #[must_use]
    pub fn generate(device_id: DeviceId, random: &dyn RandomSource) -> Self {
        Self::generate_for(device_id, Transport::Bearer, random)
    }

    /// A fresh token for `device_id` and `transport`, with 256 random bits.
    #[must_use]
    pub fn generate_for(
        device_id: DeviceId,
        transport: Transport,
        random: &dyn RandomSource,
    ) -> Self {
        Self::from_parts(device_id, random::bytes(random), transport)
    }

    fn from_parts(device_id: DeviceId, secret: [u8; SECRET_BYTES], transport: Transport) -> Self {
        let mut raw = [0u8; RAW_BYTES];
        let (id_part, secret_part) = raw.split_at_mut(16);
        id_part.copy_from_slice(device_id.as_bytes());
        secret_part.copy_from_slice(&secret);
        Self {
            text: format!("{PREFIX}{}", b64_encode(&raw)),
            device_id,
            secret,
            transport,
        }
    }

    /// Parses a token presented in a JSON body (bearer transport); `None` for anything not
    /// of the exact form.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_for(text, Transport::Bearer)
    }

    /// Parses a token presented on `transport`. A token issued for the other transport
    /// parses, but its [`hash`](Self::hash) matches no stored record.
    #[must_use]
    pub fn parse_for(text: &str, transport: Transport) -> Option<Self> {
        if text.len() != TOKEN_CHARS {
            return None;
        }
        let raw = b64_decode(text.strip_prefix(PREFIX)?)?;
        let (id_part, secret_part) = raw.split_at_checked(16)?;
        let device_id = DeviceId::from_uuid(uuid::Uuid::from_slice(id_part).ok()?);
        let secret: [u8; SECRET_BYTES] = secret_part.try_into().ok()?;
        Some(Self {
            text: text.to_owned(),
            device_id,
            secret,
            transport,
        })
    }

    /// The transport the token was issued, or presented, for.
    #[must_use]
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The device the token was issued to.
    #[must_use]
    pub fn device_id(&self) -> DeviceId {
        self.device_id
    }

    /// The token text, to hand to the client.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The SHA-256 of the token text, bound to its transport: all a store keeps. A bearer
    /// token's hash is the SHA-256 of its text alone.
    #[must_use]
    pub fn hash(&self) -> RefreshTokenHash {
        let digest = Sha256::new()
            .chain_update(self.transport.hash_label())
            .chain_update(self.text.as_bytes())
            .finalize();
        RefreshTokenHash(digest.into())
    }

    /// Seals `successor` so that only a holder of `self` can recover it.
    #[must_use]
    pub fn seal(&self, successor: &RefreshToken) -> SealedSuccessor {
        SealedSuccessor(xor(successor.secret, self.seal_pad()))
    }

    /// Recovers the successor sealed by [`seal`](Self::seal) with this token; it travels
    /// as this one does.
    #[must_use]
    pub fn unseal(&self, sealed: &SealedSuccessor) -> RefreshToken {
        Self::from_parts(
            self.device_id,
            xor(sealed.0, self.seal_pad()),
            self.transport,
        )
    }

    fn seal_pad(&self) -> [u8; SECRET_BYTES] {
        // HMAC accepts any key length, so keying cannot fail.
        HmacSha256::new_from_slice(&self.secret)
            .map(|mac| mac.chain_update(SEAL_LABEL).finalize().into_bytes().into())
            .unwrap_or([0; SECRET_BYTES])
    }
}

fn xor(a: [u8; SECRET_BYTES], b: [u8; SECRET_BYTES]) -> [u8; SECRET_BYTES] {
    let mut out = a;
    for (byte, pad) in out.iter_mut().zip(b) {
        *byte ^= pad;
    }
    out
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("device_id", &self.device_id)
            .field("secret", &"<redacted>")
            .field("transport", &self.transport)
            .finish()
    }
}

impl Serialize for RefreshToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// The SHA-256 of a refresh token: what stores keep and look up. Equality is constant-time.
#[derive(Clone, Copy, Eq, PartialOrd, Ord)]
pub struct RefreshTokenHash([u8; 32]);

impl RefreshTokenHash {
    /// Wraps 32 stored bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes, for storage.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, for key-value stores.
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl PartialEq for RefreshTokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

// Written by hand to stay consistent with the constant-time `PartialEq`.
impl std::hash::Hash for RefreshTokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for RefreshTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        write!(f, "RefreshTokenHash({}…)", hex.get(..8).unwrap_or_default())
    }
}

/// A successor token's secret, sealed with the token it replaced (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SealedSuccessor([u8; 32]);

impl SealedSuccessor {
    /// Wraps 32 stored bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes, for storage.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SealedSuccessor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSuccessor(<sealed>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    fn device() -> DeviceId {
        DeviceId::from_uuid(uuid::Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_0001,
        ))
    }

    #[test]
    fn rule_r_token_is_prefixed_base64url_with_256_random_bits() {
        let token = RefreshToken::generate(device(), &SeededRandom::new(1));
        let text = token.expose();
        assert!(text.starts_with("tdr_"));
        assert_eq!(text.len(), TOKEN_CHARS);
        let body = text.trim_start_matches("tdr_");
        assert!(
            body.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(RefreshToken::parse(text), Some(token.clone()));
        let other = RefreshToken::generate(device(), &SeededRandom::new(2));
        assert_ne!(token.hash(), other.hash());
    }

    #[test]
    fn rule_r_parse_refuses_anything_but_the_exact_form() {
        let token = RefreshToken::generate(device(), &SeededRandom::new(1));
        let text = token.expose();
        let wrong_prefix = text.replacen("tdr_", "tdx_", 1);
        let truncated = &text[..text.len() - 1];
        let padded = format!("{truncated}=");
        for bad in ["", "tdr_", truncated, &padded, &wrong_prefix, "tdr_!!!!"] {
            assert_eq!(RefreshToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn rule_r_sealed_successor_opens_only_with_the_consumed_token() {
        let consumed = RefreshToken::generate(device(), &SeededRandom::new(1));
        let successor = RefreshToken::generate(device(), &SeededRandom::new(2));
        let sealed = consumed.seal(&successor);
        assert_ne!(sealed.as_bytes(), &successor.secret);
        assert_eq!(consumed.unseal(&sealed), successor);
        let stranger = RefreshToken::generate(device(), &SeededRandom::new(3));
        assert_ne!(stranger.unseal(&sealed), successor);
    }

    #[test]
    fn refresh_secrets_never_reach_debug_output() {
        let token = RefreshToken::generate(device(), &SeededRandom::new(1));
        let debug = format!("{token:?} {:?}", token.hash());
        let body = token.expose().trim_start_matches("tdr_");
        assert!(!debug.contains(body));
        assert!(!debug.contains(&token.hash().to_hex()));
    }
}
