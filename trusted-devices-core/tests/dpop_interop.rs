//! SPEC §9 against another implementation: proofs made by jwcrypto (Python, on OpenSSL)
//! pass our check with the same thumbprint, and ours pass jwcrypto's. A disagreement is a
//! bug to find. Needs `/usr/bin/python3` with jwcrypto (Debian's python3-jwcrypto, which
//! `.ci/run` installs); without it the test says it was skipped, and fails under CI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::process::Command;

use chrono::{TimeDelta, Utc};
use trusted_devices_core::OsRandom;
use trusted_devices_core::dpop::{DpopKey, DpopRequest, ProofFor, PublicOrigin, check_proof};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dpop_interop.py");
const PYTHON: &str = "/usr/bin/python3";

fn jwcrypto_available(test: &str) -> bool {
    let found = Command::new(PYTHON)
        .args(["-c", "import jwcrypto"])
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: /usr/bin/python3 with jwcrypto is missing, and CI requires this test"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED {test}: no jwcrypto (apt-get install python3-jwcrypto) ***"
        );
    }
    found
}

fn python(args: &[&str]) -> std::process::Output {
    Command::new(PYTHON)
        .arg(SCRIPT)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn section_9_proofs_made_by_jwcrypto_pass_with_its_thumbprint() {
    if !jwcrypto_available("section_9_proofs_made_by_jwcrypto_pass_with_its_thumbprint") {
        return;
    }
    let now = Utc::now();
    let uri = "https://api.example.com/devices";
    for kty in ["EC", "OKP"] {
        for token in [None, Some("an.access.token")] {
            let iat = now.timestamp().to_string();
            let made = python(&["make", kty, "GET", uri, &iat, token.unwrap_or("-")]);
            assert!(
                made.status.success(),
                "{}",
                String::from_utf8_lossy(&made.stderr)
            );
            let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
            let proof = made["proof"].as_str().unwrap();
            let (origin, path) = PublicOrigin::split_uri(uri).unwrap();
            let origins = [origin];
            let request = DpopRequest {
                proof,
                method: "GET",
                origins: &origins,
                path,
            };
            let checked = check_proof(&request, token, now, TimeDelta::seconds(60))
                .unwrap_or_else(|error| panic!("{kty}, token {token:?}: {error:?}\n{proof}"));
            assert_eq!(checked.jkt.as_str(), made["jkt"].as_str().unwrap(), "{kty}");
        }
    }
}

#[test]
fn section_9_our_proofs_pass_jwcrypto_with_the_same_thumbprint() {
    if !jwcrypto_available("section_9_our_proofs_pass_jwcrypto_with_the_same_thumbprint") {
        return;
    }
    for key in [
        DpopKey::generate_es256(&OsRandom),
        DpopKey::generate_ed25519(&OsRandom),
    ] {
        let proof = key.proof(&ProofFor {
            method: "POST",
            uri: "https://api.example.com/auth/refresh",
            issued_at: Utc::now().timestamp(),
            jti: "one",
            access_token: Some("token"),
            nonce: Some("nonce"),
        });
        let checked = python(&["check", &proof, key.thumbprint().as_str()]);
        assert!(
            checked.status.success(),
            "{key:?}: {}",
            String::from_utf8_lossy(&checked.stderr)
        );
    }
}
