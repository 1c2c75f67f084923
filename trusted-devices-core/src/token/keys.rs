use std::fmt;

use hmac::{Hmac, KeyInit};
use sha2::Sha256;

use crate::random::{self, RandomSource};

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Why a key or key ring was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// HS256 keys shorter than the hash output are weak (RFC 7518 §3.2).
    #[error("a signing secret must be at least {min} bytes, got {got}")]
    SecretTooShort {
        /// The minimum.
        min: usize,
        /// What was given.
        got: usize,
    },
    /// A `kid` must be 1 to 64 printable ASCII characters.
    #[error("a key id must be 1 to 64 printable ASCII characters")]
    BadKeyId,
    /// Two keys of one ring share a `kid`.
    #[error("the key id {0:?} is used twice")]
    DuplicateKeyId(String),
}

/// One HS256 key with its `kid`. Its `Debug` shows the `kid` only, never the secret.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    mac: HmacSha256,
    /// The base64url header this key signs under (`{"alg":"HS256","typ":"JWT","kid":…}`):
    /// a token carrying exactly it needs no header parsing.
    header: String,
}

impl SigningKey {
    /// The shortest secret accepted, in bytes (the SHA-256 output size).
    pub const MIN_SECRET_BYTES: usize = 32;

    /// A key from a secret of at least 32 bytes.
    pub fn new(kid: impl Into<String>, secret: &[u8]) -> Result<Self, KeyError> {
        let kid = kid.into();
        let printable = kid.bytes().all(|b| b.is_ascii_graphic());
        if kid.is_empty() || kid.len() > 64 || !printable {
            return Err(KeyError::BadKeyId);
        }
        if secret.len() < Self::MIN_SECRET_BYTES {
            return Err(KeyError::SecretTooShort {
                min: Self::MIN_SECRET_BYTES,
                got: secret.len(),
            });
        }
        // HMAC takes keys of any length, so this cannot fail; map it anyway rather than panic.
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| KeyError::SecretTooShort {
            min: Self::MIN_SECRET_BYTES,
            got: secret.len(),
        })?;
        let header = crate::token::access::encoded_header(&kid);
        Ok(Self { kid, mac, header })
    }

    /// A key with a fresh random 32-byte secret, for servers started without a configured one.
    #[must_use]
    pub fn generate(kid: impl Into<String>, random: &dyn RandomSource) -> Option<Self> {
        let secret: [u8; 32] = random::bytes(random);
        Self::new(kid, &secret).ok()
    }

    /// The key id written in the JWT header.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The base64url JWT header of tokens this key signs.
    pub(crate) fn encoded_header(&self) -> &str {
        &self.header
    }

    /// A MAC keyed with this secret, ready to be fed (cloning skips re-hashing the key).
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The keys of a deployment: one active key that signs, any number of verify-only keys that
/// still accept tokens signed before a rotation. Keys are chosen by `kid`.
///
/// ```
/// use trusted_devices_core::{KeyRing, SigningKey};
/// let old = SigningKey::new("2026-01", &[1u8; 32]).unwrap();
/// let new = SigningKey::new("2026-02", &[2u8; 32]).unwrap();
/// let ring = KeyRing::new(new).with_verify_only(old).unwrap();
/// assert_eq!(ring.active().kid(), "2026-02");
/// assert!(ring.find("2026-01").is_some());
/// ```
#[derive(Debug, Clone)]
pub struct KeyRing {
    active: SigningKey,
    verify_only: Vec<SigningKey>,
}

impl KeyRing {
    /// A ring whose only key signs and verifies.
    #[must_use]
    pub fn new(active: SigningKey) -> Self {
        Self {
            active,
            verify_only: Vec::new(),
        }
    }

    /// Adds a key that verifies but no longer signs.
    pub fn with_verify_only(mut self, key: SigningKey) -> Result<Self, KeyError> {
        if self.find(key.kid()).is_some() {
            return Err(KeyError::DuplicateKeyId(key.kid().to_owned()));
        }
        self.verify_only.push(key);
        Ok(self)
    }

    /// The key that signs new tokens.
    #[must_use]
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The key with this `kid`, active or verify-only.
    #[must_use]
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys().find(|key| key.kid == kid)
    }

    /// The key whose own encoded header and a dot begin `signing_input`, and the claims
    /// segment after them: every token this library signs, found without decoding or
    /// parsing its header.
    pub(crate) fn find_by_encoded_header<'t>(
        &self,
        signing_input: &'t str,
    ) -> Option<(&SigningKey, &'t str)> {
        self.keys().find_map(|key| {
            let claims = signing_input.strip_prefix(key.header.as_str())?;
            Some((key, claims.strip_prefix('.')?))
        })
    }

    /// Every key, the active one first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &SigningKey> {
        self.keys()
    }

    fn keys(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.active).chain(&self.verify_only)
    }
}
