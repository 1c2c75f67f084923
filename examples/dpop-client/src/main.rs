//! A DPoP client on the command line (SPEC §9), for the README's walk-through:
//!
//! ```text
//! dpop-client new-key                          # prints a new P-256 device key
//! dpop-client proof KEY METHOD URL [TOKEN]     # prints a proof for one request
//! dpop-client thumbprint KEY                   # prints the key's RFC 7638 thumbprint
//! dpop-client proofs KEY METHOD URL TOKEN N    # prints N proofs, one per line (benchmarks)
//! ```
//!
//! The key is printed as base64url so that a shell variable can hold it; a real client
//! keeps it where only the device can read it.

use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use trusted_devices_core::OsRandom;
use trusted_devices_core::dpop::{DpopKey, ProofFor};

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = arguments.iter().map(String::as_str).collect();
    match run(&words) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: dpop-client new-key | proof KEY METHOD URL [TOKEN] | thumbprint KEY \
                 | proofs KEY METHOD URL TOKEN N"
            );
            ExitCode::from(2)
        }
    }
}

fn run(words: &[&str]) -> Result<String, String> {
    match words {
        ["new-key"] => Ok(URL_SAFE_NO_PAD.encode(DpopKey::generate_es256(&OsRandom).secret())),
        ["thumbprint", key] => Ok(key_of(key)?.thumbprint().to_string()),
        ["proof", key, method, url] => proof(key, method, url, None),
        ["proof", key, method, url, token] => proof(key, method, url, Some(token)),
        ["proofs", key, method, url, token, count] => {
            let count: usize = count.parse().map_err(|_| "N is not a number".to_owned())?;
            let proofs: Result<Vec<String>, String> = (0..count)
                .map(|_| proof(key, method, url, Some(token)))
                .collect();
            Ok(proofs?.join("\n"))
        }
        _ => Err("unknown command".to_owned()),
    }
}

fn key_of(text: &str) -> Result<DpopKey, String> {
    let secret = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| "KEY is not base64url".to_owned())?;
    DpopKey::es256_from_secret(&secret).ok_or_else(|| "KEY is not a P-256 key".to_owned())
}

fn proof(key: &str, method: &str, url: &str, token: Option<&str>) -> Result<String, String> {
    let key = key_of(key)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "the clock is before 1970".to_owned())?;
    let mut jti = [0u8; 16];
    trusted_devices_core::RandomSource::fill(&OsRandom, &mut jti);
    let jti = URL_SAFE_NO_PAD.encode(jti);
    let issued_at = i64::try_from(now.as_secs()).map_err(|_| "the clock is too far".to_owned())?;
    Ok(key.proof(&ProofFor {
        method,
        uri: url,
        issued_at,
        jti: &jti,
        access_token: token,
        nonce: None,
    }))
}
