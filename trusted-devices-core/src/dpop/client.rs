//! The client side of DPoP: a key held by a device and the proofs it signs. For tests, for
//! the example's walk-through, and for a Rust client of a trusted-devices server.

use std::fmt;

use p256::ecdsa::signature::Signer as _;
use sha2::{Digest, Sha256};

use crate::dpop::{PublicJwk, Thumbprint};
use crate::random::{self, RandomSource};
use crate::token::b64_encode;

/// A device's private key; its `Debug` shows only the thumbprint.
#[derive(Clone)]
pub enum DpopKey {
    /// ES256 on P-256.
    Es256(p256::ecdsa::SigningKey),
    /// EdDSA on Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DpopKey({})", self.thumbprint())
    }
}

/// What one proof names: the request, and the access token or nonce it goes with.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProofFor<'a> {
    /// `htm`: the request's method.
    pub method: &'a str,
    /// `htu`: the URI addressed, without query.
    pub uri: &'a str,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `jti`: unique per proof.
    pub jti: &'a str,
    /// The access token sent with it (`ath` is its hash), if any.
    pub access_token: Option<&'a str>,
    /// A server nonce (`DPoP-Nonce`), if the server asked for one.
    pub nonce: Option<&'a str>,
}

impl DpopKey {
    /// A new P-256 key from `random`.
    #[must_use]
    pub fn generate_es256(random: &dyn RandomSource) -> Self {
        loop {
            // A random 32 bytes is a valid scalar but with odds of about 2^-32 against.
            let bytes: [u8; 32] = random::bytes(random);
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                return Self::Es256(key);
            }
        }
    }

    /// A new Ed25519 key from `random`.
    #[must_use]
    pub fn generate_ed25519(random: &dyn RandomSource) -> Self {
        Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&random::bytes(
            random,
        )))
    }

    /// A P-256 key from its 32-byte secret scalar; `None` if it is not one.
    #[must_use]
    pub fn es256_from_secret(secret: &[u8]) -> Option<Self> {
        p256::ecdsa::SigningKey::from_slice(secret)
            .ok()
            .map(Self::Es256)
    }

    /// The secret, to keep the key on the device between runs (a file only the device's
    /// user can read, a keychain). Whoever holds it is the device: never send it anywhere.
    #[must_use]
    pub fn secret(&self) -> Vec<u8> {
        match self {
            Self::Es256(key) => key.to_bytes().to_vec(),
            Self::Ed25519(key) => key.to_bytes().to_vec(),
        }
    }

    /// The public half, as a proof carries it.
    #[must_use]
    pub fn public_jwk(&self) -> PublicJwk {
        match self {
            Self::Es256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let mut x = [0u8; 32];
                let mut y = [0u8; 32];
                if let (Some(px), Some(py)) = (point.x(), point.y()) {
                    x.copy_from_slice(px);
                    y.copy_from_slice(py);
                }
                PublicJwk::P256 { x, y }
            }
            Self::Ed25519(key) => PublicJwk::Ed25519 {
                x: key.verifying_key().to_bytes(),
            },
        }
    }

    /// The thumbprint a device bound to this key stores.
    #[must_use]
    pub fn thumbprint(&self) -> Thumbprint {
        self.public_jwk().thumbprint()
    }

    /// A signed proof for one request.
    #[must_use]
    pub fn proof(&self, request: &ProofFor<'_>) -> String {
        let alg = match self {
            Self::Es256(_) => "ES256",
            Self::Ed25519(_) => "EdDSA",
        };
        let header = format!(
            r#"{{"typ":"dpop+jwt","alg":"{alg}","jwk":{}}}"#,
            self.public_jwk().canonical_json()
        );
        let mut claims = serde_json::Map::new();
        claims.insert("jti".into(), request.jti.into());
        claims.insert("htm".into(), request.method.into());
        claims.insert("htu".into(), request.uri.into());
        claims.insert("iat".into(), request.issued_at.into());
        if let Some(token) = request.access_token {
            let ath = b64_encode(&Sha256::digest(token.as_bytes()));
            claims.insert("ath".into(), ath.into());
        }
        if let Some(nonce) = request.nonce {
            claims.insert("nonce".into(), nonce.into());
        }
        let claims = serde_json::Value::Object(claims);
        let signing_input = format!(
            "{}.{}",
            b64_encode(header.as_bytes()),
            b64_encode(claims.to_string().as_bytes())
        );
        let signature = match self {
            Self::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(signing_input.as_bytes());
                signature.to_bytes().to_vec()
            }
            Self::Ed25519(key) => {
                use ed25519_dalek::Signer as _;
                key.sign(signing_input.as_bytes()).to_bytes().to_vec()
            }
        };
        format!("{signing_input}.{}", b64_encode(&signature))
    }
}
