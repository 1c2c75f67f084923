//! SPEC §9: devices that hold a key (DPoP, RFC 9449).
//!
//! A login that carries a valid `DPoP` proof binds its device to the proof's public key:
//! the key's RFC 7638 thumbprint ([`Thumbprint`]) is stored with the device and its access
//! tokens carry it as `cnf.jkt`. From then on every request of the device needs a proof by
//! that key, and so does every refresh: a copied token is useless without the key.
//!
//! Proofs are checked as RFC 9449 section 4.3 says ([`check_proof`]), with ES256 (P-256)
//! and EdDSA (Ed25519) through ring (BoringSSL's constant-time code); no curve or
//! signature code is written here. The device's side (`DpopKey`, signing with RustCrypto's
//! `p256` and `ed25519-dalek`) is behind the `client` feature: a server needs none of it. Each proof's `jti` is used once within the proof-age
//! window ([`ProofReplayCache`]), and with `dpop_nonce` on a proof must carry a recent
//! server nonce.
//!
//! With the `client` feature (a device's side of it):
//!
//! ```
//! # #[cfg(feature = "client")] {
//! use chrono::{TimeDelta, Utc};
//! use trusted_devices_core::OsRandom;
//! use trusted_devices_core::dpop::{DpopKey, DpopRequest, ProofFor, PublicOrigin, check_proof};
//!
//! let key = DpopKey::generate_es256(&OsRandom);
//! let origins = [PublicOrigin::parse("https://api.example.com").unwrap()];
//! let now = Utc::now();
//! let proof = key.proof(&ProofFor {
//!     method: "GET",
//!     uri: "https://api.example.com/me",
//!     issued_at: now.timestamp(),
//!     jti: "a unique id",
//!     access_token: Some("the access token"),
//!     nonce: None,
//! });
//! let request = DpopRequest { proof: &proof, method: "GET", origins: &origins, path: "/me" };
//! let checked = check_proof(&request, Some("the access token"), now, TimeDelta::seconds(60)).unwrap();
//! assert_eq!(checked.jkt, key.thumbprint());
//! # }
//! ```

#[cfg(feature = "client")]
mod client;
mod jwk;
pub(crate) mod nonce;
mod origin;
mod proof;
mod replay;

pub use crate::domain::Thumbprint;
pub use crate::error::ProofError;
#[cfg(feature = "client")]
pub use client::{DpopKey, ProofFor};
pub use jwk::PublicJwk;
pub use origin::PublicOrigin;
pub use proof::{CheckedProof, DpopRequest, JTI_MAX_CHARS, PROOF_MAX_BYTES, check_proof};
pub use replay::{
    MEMORY_REPLAY_CAPACITY, MemoryProofReplayCache, PROOF_SHARE_PER_KEY, ProofReplayCache, ProofUse,
};
