//! Checking one DPoP proof as RFC 9449 section 4.3 says, with no I/O: the service adds the
//! replay cache and the server nonce (`service/dpop.rs`).

use chrono::{DateTime, TimeDelta, Utc};
use ring::signature::{ECDSA_P256_SHA256_FIXED, ED25519, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::Thumbprint;
use crate::dpop::jwk::PublicJwk;
use crate::dpop::origin::{PublicOrigin, split_htu};
use crate::error::ProofError;
use crate::token::{b64_decode, b64_decode_into, b64_encode};

/// The longest `DPoP` header read; a longer one is refused unread.
pub const PROOF_MAX_BYTES: usize = 4096;
/// The longest `jti` kept in the replay cache.
pub const JTI_MAX_CHARS: usize = 256;
/// The longest server nonce read.
const NONCE_MAX_CHARS: usize = 256;

/// What a request offers for DPoP: its one `DPoP` header, and what the proof must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpopRequest<'a> {
    /// The `DPoP` header's value: a compact JWS.
    pub proof: &'a str,
    /// The request's method (`htm`), as sent: `GET`, `POST`...
    pub method: &'a str,
    /// The origins clients address this server by: `htu`'s scheme and authority must be
    /// one of them (SPEC §9).
    pub origins: &'a [PublicOrigin],
    /// The path the client addressed, before any router nesting stripped a prefix, without
    /// the query: `htu`'s path must be it.
    pub path: &'a str,
}

/// A proof that passed every check that needs no storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProof {
    /// The thumbprint of the key that signed it.
    pub jkt: Thumbprint,
    /// Its unique id, for the replay cache.
    pub jti: String,
    /// When it says it was made.
    pub issued_at: DateTime<Utc>,
    /// The server nonce it carries, if any.
    pub nonce: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    typ: Option<String>,
    alg: Option<String>,
    jwk: Option<Map<String, Value>>,
    crit: Option<Value>,
}

#[derive(Deserialize)]
struct Claims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<Number>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// The algorithms accepted, each with the key type it needs.
#[derive(Clone, Copy)]
enum Algorithm {
    Es256,
    EdDsa,
}

impl Algorithm {
    fn of(alg: &str) -> Result<Self, ProofError> {
        match alg {
            "ES256" => Ok(Self::Es256),
            // RFC 8037's name, and RFC 9864's fully specified one.
            "EdDSA" | "Ed25519" => Ok(Self::EdDsa),
            _ => Err(ProofError::UnsupportedAlgorithm),
        }
    }
}

/// Checks `request`'s proof at `now` (RFC 9449 section 4.3, steps 2 to 11 but the replay
/// cache and the nonce): form, `typ`, `alg`, public `jwk`, signature, `htm`, `htu`, `iat`
/// within `max_age` either way, and `ath` when an access token is presented.
pub fn check_proof(
    request: &DpopRequest<'_>,
    access_token: Option<&str>,
    now: DateTime<Utc>,
    max_age: TimeDelta,
) -> Result<CheckedProof, ProofError> {
    if request.proof.len() > PROOF_MAX_BYTES {
        return Err(ProofError::Oversized);
    }
    let mut parts = request.proof.split('.');
    let (Some(header_part), Some(claims_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProofError::Malformed);
    };
    let header: Header = json_of(header_part)?;
    if header.typ.as_deref() != Some("dpop+jwt") || header.crit.is_some() {
        return Err(ProofError::WrongType);
    }
    let algorithm = Algorithm::of(header.alg.as_deref().ok_or(ProofError::Malformed)?)?;
    let key = PublicJwk::from_json(header.jwk.as_ref().ok_or(ProofError::Malformed)?)?;
    let signing_input_len = header_part.len() + 1 + claims_part.len();
    let signing_input = request
        .proof
        .get(..signing_input_len)
        .ok_or(ProofError::Malformed)?;
    verify_signature(algorithm, &key, signing_input.as_bytes(), signature_part)?;

    let claims: Claims = json_of(claims_part)?;
    let jti = claims
        .jti
        .filter(|jti| !jti.is_empty())
        .ok_or(ProofError::Malformed)?;
    if jti.len() > JTI_MAX_CHARS {
        return Err(ProofError::Oversized);
    }
    if claims.htm.as_deref() != Some(request.method) {
        return Err(ProofError::WrongMethod);
    }
    let htu = claims.htu.as_deref().ok_or(ProofError::Malformed)?;
    let (origin, path) = split_htu(htu).ok_or(ProofError::WrongUri)?;
    if path != request.path || !request.origins.contains(&origin) {
        return Err(ProofError::WrongUri);
    }
    let issued_at = issued_at(claims.iat.as_ref())?;
    if (now - issued_at).abs() > max_age {
        return Err(ProofError::OutOfWindow);
    }
    if let Some(token) = access_token {
        let expected = b64_encode(&Sha256::digest(token.as_bytes()));
        let presented = claims.ath.as_deref().unwrap_or_default();
        if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
            return Err(ProofError::WrongAccessToken);
        }
    }
    if claims
        .nonce
        .as_ref()
        .is_some_and(|nonce| nonce.len() > NONCE_MAX_CHARS)
    {
        return Err(ProofError::Oversized);
    }
    Ok(CheckedProof {
        jkt: key.thumbprint(),
        jti,
        issued_at,
        nonce: claims.nonce,
    })
}

fn json_of<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, ProofError> {
    let bytes = b64_decode(part).ok_or(ProofError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| ProofError::Malformed)
}

fn verify_signature(
    algorithm: Algorithm,
    key: &PublicJwk,
    signing_input: &[u8],
    signature: &str,
) -> Result<(), ProofError> {
    let mut raw = [0u8; 64];
    if b64_decode_into(signature, &mut raw) != Some(64) || signature.len() != 86 {
        return Err(ProofError::BadSignature);
    }
    // ring (BoringSSL's constant-time P-256 and Ed25519 code): 2.5x faster than
    // RustCrypto's `p256` on this check, as fast as aws-lc-rs at a quarter of its build
    // time (BENCHMARKS.md, "DPoP signature checks").
    let verified = match (algorithm, key) {
        (Algorithm::Es256, PublicJwk::P256 { x, y }) => {
            let point = sec1_uncompressed(x, y);
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point[..])
                .verify(signing_input, &raw)
                .is_ok()
        }
        (Algorithm::EdDsa, PublicJwk::Ed25519 { x }) => UnparsedPublicKey::new(&ED25519, &x[..])
            .verify(signing_input, &raw)
            .is_ok(),
        _ => return Err(ProofError::UnsupportedAlgorithm),
    };
    if verified {
        Ok(())
    } else {
        Err(ProofError::BadSignature)
    }
}

/// SEC1's uncompressed form of a P-256 point: 0x04, x, y.
fn sec1_uncompressed(x: &[u8; 32], y: &[u8; 32]) -> [u8; 65] {
    let mut point = [0x04u8; 65];
    let (_, coordinates) = point.split_at_mut(1);
    let (to_x, to_y) = coordinates.split_at_mut(32);
    to_x.copy_from_slice(x);
    to_y.copy_from_slice(y);
    point
}

fn issued_at(iat: Option<&Number>) -> Result<DateTime<Utc>, ProofError> {
    let iat = iat.ok_or(ProofError::Malformed)?;
    let seconds = match iat.as_i64() {
        Some(seconds) => seconds,
        // A NumericDate may have a fraction; whole seconds are enough for the window.
        None => iat
            .as_f64()
            .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e15)
            .map(|seconds| seconds.floor() as i64)
            .ok_or(ProofError::Malformed)?,
    };
    DateTime::from_timestamp(seconds, 0).ok_or(ProofError::OutOfWindow)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9449 section 4.2, Figure 2.
    const RFC_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
    const RFC_IAT: i64 = 1_562_262_616;

    fn origins() -> &'static [PublicOrigin] {
        static ORIGINS: std::sync::LazyLock<[PublicOrigin; 1]> = std::sync::LazyLock::new(|| {
            [PublicOrigin::parse("https://server.example.com").unwrap()]
        });
        &*ORIGINS
    }

    fn rfc_request(proof: &str) -> DpopRequest<'_> {
        DpopRequest {
            proof,
            method: "POST",
            origins: origins(),
            path: "/token",
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn minute() -> TimeDelta {
        TimeDelta::seconds(60)
    }

    #[test]
    fn section_9_the_rfc_9449_example_proof_verifies() {
        let checked = check_proof(&rfc_request(RFC_PROOF), None, at(RFC_IAT + 5), minute())
            .expect("RFC 9449 Figure 2 verifies");
        assert_eq!(
            checked.jkt.as_str(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
        assert_eq!(checked.jti, "-BwC3ESc6acc2lTc");
        assert_eq!(checked.issued_at, at(RFC_IAT));
    }

    #[test]
    fn section_9_the_rfc_example_with_one_byte_changed_is_refused() {
        for position in [10, 300, RFC_PROOF.len() - 5] {
            let mut bytes = RFC_PROOF.as_bytes().to_vec();
            bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            let refused = check_proof(&rfc_request(&changed), None, at(RFC_IAT), minute());
            assert!(refused.is_err(), "byte {position} changed: {refused:?}");
        }
    }

    #[test]
    fn section_9_the_rfc_example_outside_its_window_method_or_uri_is_refused() {
        let request = rfc_request(RFC_PROOF);
        let late = check_proof(&request, None, at(RFC_IAT + 61), minute());
        assert_eq!(late, Err(ProofError::OutOfWindow));
        let early = check_proof(&request, None, at(RFC_IAT - 61), minute());
        assert_eq!(early, Err(ProofError::OutOfWindow));
        let get = DpopRequest {
            method: "GET",
            ..request
        };
        assert_eq!(
            check_proof(&get, None, at(RFC_IAT), minute()),
            Err(ProofError::WrongMethod)
        );
        let elsewhere = DpopRequest {
            path: "/other",
            ..request
        };
        assert_eq!(
            check_proof(&elsewhere, None, at(RFC_IAT), minute()),
            Err(ProofError::WrongUri)
        );
        let other_server = [PublicOrigin::parse("https://other.example.com").unwrap()];
        let other_origin = DpopRequest {
            origins: &other_server,
            ..request
        };
        assert_eq!(
            check_proof(&other_origin, None, at(RFC_IAT), minute()),
            Err(ProofError::WrongUri),
            "a proof made for another server's token endpoint"
        );
        let two = [
            PublicOrigin::parse("https://other.example.com").unwrap(),
            PublicOrigin::parse("HTTPS://Server.Example.com:443").unwrap(),
        ];
        let either = DpopRequest {
            origins: &two,
            ..request
        };
        assert!(check_proof(&either, None, at(RFC_IAT), minute()).is_ok());
        let with_token = check_proof(&request, Some("an access token"), at(RFC_IAT), minute());
        assert_eq!(with_token, Err(ProofError::WrongAccessToken));
    }

    /// SPEC §9: `EdDSA` (RFC 8037) and `Ed25519` (RFC 9864's fully specified name) both
    /// name the Ed25519 algorithm.
    #[cfg(feature = "client")]
    #[test]
    fn section_9_both_spellings_of_ed25519_are_accepted() {
        use ed25519_dalek::Signer as _;
        let secret = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let jwk = PublicJwk::Ed25519 {
            x: secret.verifying_key().to_bytes(),
        };
        let claims = format!(
            r#"{{"jti":"x","htm":"POST","htu":"https://server.example.com/token","iat":{RFC_IAT}}}"#
        );
        for alg in ["EdDSA", "Ed25519"] {
            let header = format!(
                r#"{{"typ":"dpop+jwt","alg":"{alg}","jwk":{}}}"#,
                jwk.canonical_json()
            );
            let input = format!(
                "{}.{}",
                b64_encode(header.as_bytes()),
                b64_encode(claims.as_bytes())
            );
            let signature = b64_encode(&secret.sign(input.as_bytes()).to_bytes());
            let proof = format!("{input}.{signature}");
            let checked = check_proof(&rfc_request(&proof), None, at(RFC_IAT), minute());
            assert_eq!(checked.map(|c| c.jkt), Ok(jwk.thumbprint()), "{alg}");
        }
    }

    fn forged(header: &str, claims: &str, signature: &str) -> String {
        format!(
            "{}.{}.{}",
            b64_encode(header.as_bytes()),
            b64_encode(claims.as_bytes()),
            signature
        )
    }

    #[test]
    fn section_9_alg_none_hs256_and_private_keys_are_refused() {
        let claims =
            r#"{"jti":"x","htm":"POST","htu":"https://server.example.com/token","iat":1562262616}"#;
        let jwk = r#"{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}"#;
        let signature = RFC_PROOF.rsplit('.').next().unwrap();
        let none = forged(
            &format!(r#"{{"typ":"dpop+jwt","alg":"none","jwk":{jwk}}}"#),
            claims,
            "",
        );
        let hs256 = forged(
            &format!(r#"{{"typ":"dpop+jwt","alg":"HS256","jwk":{jwk}}}"#),
            claims,
            signature,
        );
        let private_jwk = jwk.replace("\"crv\"", "\"d\":\"AAAA\",\"crv\"");
        let private = forged(
            &format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{private_jwk}}}"#),
            claims,
            signature,
        );
        let jwt_typ = forged(
            &format!(r#"{{"typ":"JWT","alg":"ES256","jwk":{jwk}}}"#),
            claims,
            signature,
        );
        for (proof, expected) in [
            (none, ProofError::UnsupportedAlgorithm),
            (hs256, ProofError::UnsupportedAlgorithm),
            (private, ProofError::PrivateKey),
            (jwt_typ, ProofError::WrongType),
        ] {
            assert_eq!(
                check_proof(&rfc_request(&proof), None, at(RFC_IAT), minute()),
                Err(expected)
            );
        }
        let huge = "a".repeat(PROOF_MAX_BYTES + 1);
        assert_eq!(
            check_proof(&rfc_request(&huge), None, at(RFC_IAT), minute()),
            Err(ProofError::Oversized)
        );
    }
}
