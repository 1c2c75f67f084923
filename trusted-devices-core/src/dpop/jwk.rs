//! The public keys a DPoP proof may carry (ES256 on P-256, EdDSA on Ed25519) and their
//! RFC 7638 thumbprints, the value a device is bound to.

use std::fmt;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::Thumbprint;
use crate::error::ProofError;
use crate::token::{b64_decode_into, b64_encode};

/// Members that only a private (or symmetric) JWK has: a proof carrying one is refused,
/// since whoever sent it has published its secret.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A public key of a proof, decoded and checked.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicJwk {
    /// An EC key on P-256 (`alg` ES256): the affine coordinates.
    P256 {
        /// `x`, 32 bytes.
        x: [u8; 32],
        /// `y`, 32 bytes.
        y: [u8; 32],
    },
    /// An OKP key on Ed25519 (`alg` EdDSA or Ed25519).
    Ed25519 {
        /// `x`, 32 bytes.
        x: [u8; 32],
    },
}

impl fmt::Debug for PublicJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicJwk({})", self.thumbprint())
    }
}

impl PublicJwk {
    /// Reads a JWK object: `kty` EC with `crv` P-256 and `x`, `y`, or `kty` OKP with `crv`
    /// Ed25519 and `x`; each coordinate the canonical base64url of 32 bytes. A private
    /// member anywhere is [`ProofError::PrivateKey`].
    pub fn from_json(jwk: &Map<String, Value>) -> Result<Self, ProofError> {
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| jwk.contains_key(*member))
        {
            return Err(ProofError::PrivateKey);
        }
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        match (text("kty"), text("crv")) {
            (Some("EC"), Some("P-256")) => Ok(Self::P256 {
                x: coordinate(text("x"))?,
                y: coordinate(text("y"))?,
            }),
            (Some("OKP"), Some("Ed25519")) => Ok(Self::Ed25519 {
                x: coordinate(text("x"))?,
            }),
            _ => Err(ProofError::UnsupportedKey),
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order,
    /// without whitespace, in base64url.
    #[must_use]
    pub fn thumbprint(&self) -> Thumbprint {
        Thumbprint::of_sha256(&Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// The required members, as RFC 7638 orders them (also this key's JWK in a proof).
    #[must_use]
    pub fn canonical_json(&self) -> String {
        match self {
            Self::P256 { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64_encode(x),
                b64_encode(y)
            ),
            Self::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64_encode(x))
            }
        }
    }
}

/// 32 bytes in their one base64url spelling (43 characters, no padding): another spelling
/// of the same key would make another thumbprint.
fn coordinate(text: Option<&str>) -> Result<[u8; 32], ProofError> {
    let text = text.ok_or(ProofError::UnsupportedKey)?;
    let mut bytes = [0u8; 32];
    let canonical = text.len() == 43
        && b64_decode_into(text, &mut bytes) == Some(32)
        && b64_encode(&bytes) == text;
    if canonical {
        Ok(bytes)
    } else {
        Err(ProofError::UnsupportedKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn section_9_rfc_7638_thumbprint_of_the_rfc_9449_example_key() {
        // RFC 9449 section 4.2's key; its thumbprint as RFC 9449 section 6.1 gives it.
        let key = PublicJwk::from_json(&jwk(
            r#"{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}"#,
        ))
        .unwrap();
        assert_eq!(
            key.thumbprint().as_str(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }

    #[test]
    fn section_9_private_or_foreign_keys_are_refused() {
        let private = jwk(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#,
        );
        assert_eq!(PublicJwk::from_json(&private), Err(ProofError::PrivateKey));
        for foreign in [
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
            r#"{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}"#,
            r#"{"kty":"oct","k":"c2VjcmV0"}"#,
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="}"#,
        ] {
            assert!(PublicJwk::from_json(&jwk(foreign)).is_err(), "{foreign}");
        }
    }
}
