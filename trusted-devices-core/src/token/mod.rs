//! Tokens: JWT access tokens (rule T) and opaque rotating refresh tokens (rule R).

mod access;
mod claims;
mod claims_layout;
mod keys;
mod pair;
mod refresh;
mod transport;

pub use access::{ACCESS_TOKEN_MAX_BYTES, AccessTokenCodec};
pub(crate) use access::{ClaimsScratch, TokenTimes};
pub use claims::{AccessClaims, Confirmation};
pub use keys::{KeyError, KeyRing, SigningKey};
pub use pair::TokenPair;
pub use refresh::{RefreshToken, RefreshTokenHash, SealedSuccessor};
pub use transport::Transport;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// base64url without padding, strict: padding, non-canonical trailing bits and any other
/// alphabet are refused.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Decodes into `out` without allocating; `None` when `text` is not base64url or does not
/// fit. Returns the decoded length.
pub(crate) fn b64_decode_into(text: &str, out: &mut [u8]) -> Option<usize> {
    URL_SAFE_NO_PAD.decode_slice(text, out).ok()
}
