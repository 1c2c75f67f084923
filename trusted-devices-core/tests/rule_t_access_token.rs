//! Rule T: standard HS256 JWTs, key rotation by `kid`, and every forgery is `token_invalid`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::TimeDelta;
use common::{Fixture, SECRET};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use trusted_devices_core::{
    AccessClaims, AccessTokenCodec, DeviceInfo, Error, KeyRing, Policy, SigningKey, TrustedDevices,
    UserId,
};

fn sign_raw(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(serde_json::to_vec(header).unwrap()),
        B64.encode(serde_json::to_vec(claims).unwrap())
    );
    sign_segments_with(&input, secret)
}

/// Signs whatever `signing_input` is, dots and all, with the test key.
fn sign_segments(signing_input: &str) -> String {
    sign_segments_with(signing_input, SECRET)
}

/// Signs whatever `signing_input` is, dots and all, with `secret`.
fn sign_segments_with(signing_input: &str, secret: &[u8]) -> String {
    let mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap()
        .chain_update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        B64.encode(mac.finalize().into_bytes())
    )
}

fn parts(token: &str) -> (Value, Value) {
    let mut split = token.split('.');
    let header = serde_json::from_slice(&B64.decode(split.next().unwrap()).unwrap()).unwrap();
    let claims = serde_json::from_slice(&B64.decode(split.next().unwrap()).unwrap()).unwrap();
    (header, claims)
}

#[tokio::test]
async fn rule_t_access_token_is_a_standard_hs256_jwt() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let token = &login.tokens.access_token;
    let (header, claims) = parts(token);
    assert_eq!(header, json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}));
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["did"], login.device.id.to_string());
    assert_eq!(claims["iat"], f.now().timestamp());
    assert_eq!(claims["exp"], f.now().timestamp() + 900);
    assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    // Any HMAC-SHA256 implementation verifies it with the shared key.
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mac = Hmac::<Sha256>::new_from_slice(SECRET)
        .unwrap()
        .chain_update(input.as_bytes());
    mac.verify_slice(&B64.decode(signature).unwrap())
        .expect("independent verification");
}

#[tokio::test]
async fn rule_t_every_malformed_or_forged_token_is_token_invalid() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let good = login.tokens.access_token.clone();
    let (header, claims) = parts(&good);
    let mut without_jti = claims.clone();
    without_jti.as_object_mut().unwrap().remove("jti");
    let with = |key: &str, value: Value| {
        let mut h = header.clone();
        h[key] = value;
        h
    };
    let (input, _) = good.rsplit_once('.').unwrap();
    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("mallory");
    let forged_payload = format!(
        "{}.{}",
        good.split('.').next().unwrap(),
        B64.encode(serde_json::to_vec(&tampered_claims).unwrap())
    );
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.",
                sign_raw(&with("alg", json!("none")), &claims, SECRET)
                    .rsplit_once('.')
                    .unwrap()
                    .0
            ),
        ),
        (
            "alg HS512",
            sign_raw(&with("alg", json!("HS512")), &claims, SECRET),
        ),
        (
            "alg RS256",
            sign_raw(&with("alg", json!("RS256")), &claims, SECRET),
        ),
        (
            "lower-case alg",
            sign_raw(&with("alg", json!("hs256")), &claims, SECRET),
        ),
        (
            "unknown kid",
            sign_raw(&with("kid", json!("k9")), &claims, SECRET),
        ),
        (
            "no kid",
            sign_raw(&json!({"alg": "HS256", "typ": "JWT"}), &claims, SECRET),
        ),
        (
            "other typ",
            sign_raw(&with("typ", json!("at+jwt+x")), &claims, SECRET),
        ),
        (
            "crit header",
            sign_raw(&with("crit", json!(["exp"])), &claims, SECRET),
        ),
        ("wrong key", sign_raw(&header, &claims, &[9u8; 32])),
        (
            "tampered claims",
            format!("{forged_payload}.{}", good.rsplit_once('.').unwrap().1),
        ),
        ("missing claim", sign_raw(&header, &without_jti, SECRET)),
        ("claims not JSON", format!("{input}x")),
        ("bad base64", format!("{input}.!!!!")),
        ("padded base64", format!("{good}=")),
        ("two segments", input.to_owned()),
        ("four segments", format!("{good}.x")),
        (
            "four segments, signed",
            sign_segments(&format!("{input}.eyJ9")),
        ),
        (
            "a dot in the signature",
            format!("{}.a", &good[..good.len() - 2]),
        ),
        ("empty", String::new()),
        ("oversized", format!("{good}{}", "A".repeat(4096))),
        (
            "header not JSON",
            format!("{}.{}", B64.encode("nope"), good.split_once('.').unwrap().1),
        ),
    ];
    for (what, token) in cases {
        let verified = f.service.verify(&token, None).await;
        assert!(
            matches!(verified, Err(Error::TokenInvalid)),
            "{what}: {verified:?}"
        );
        let authenticated = f.service.authenticate(&token, None).await;
        assert!(
            matches!(authenticated, Err(Error::TokenInvalid)),
            "{what}: {authenticated:?}"
        );
    }
    assert!(
        f.service.verify(&good, None).await.is_ok(),
        "the untouched token stays valid"
    );
}

#[tokio::test]
async fn rule_t_expiry_allows_exactly_the_leeway() {
    let f = Fixture::defaults(); // 15 min TTL, 5 s leeway
    let login = f.login("alice").await;
    f.advance(TimeDelta::minutes(15) + TimeDelta::seconds(5) - TimeDelta::microseconds(1));
    assert!(
        f.service
            .verify(&login.tokens.access_token, None)
            .await
            .is_ok()
    );
    f.advance(TimeDelta::microseconds(1));
    assert!(matches!(
        f.service.verify(&login.tokens.access_token, None).await,
        Err(Error::TokenExpired)
    ));
    assert!(matches!(
        f.service
            .authenticate(&login.tokens.access_token, None)
            .await,
        Err(Error::TokenExpired)
    ));
}

#[tokio::test]
async fn rule_t_rotated_keys_still_verify_by_kid() {
    let old_key = SigningKey::new("old", &[1u8; 32]).unwrap();
    let new_key = SigningKey::new("new", &[2u8; 32]).unwrap();
    let devices = std::sync::Arc::new(trusted_devices_core::memory::MemoryDeviceRepository::new());
    let before = TrustedDevices::builder(KeyRing::new(old_key.clone()))
        .devices(devices.clone())
        .build();
    let login = before
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await
        .unwrap();
    let after = TrustedDevices::builder(KeyRing::new(new_key).with_verify_only(old_key).unwrap())
        .devices(devices)
        .build();
    assert!(
        after.verify(&login.tokens.access_token, None).await.is_ok(),
        "verify-only key accepts old tokens"
    );
    let fresh = after
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await
        .unwrap();
    assert_eq!(
        parts(&fresh.tokens.access_token).0["kid"],
        "new",
        "the active key signs"
    );
    let retired =
        TrustedDevices::builder(KeyRing::new(SigningKey::new("new", &[2u8; 32]).unwrap())).build();
    assert!(matches!(
        retired.verify(&login.tokens.access_token, None).await,
        Err(Error::TokenInvalid)
    ));
}

#[test]
fn rule_t_keys_are_validated_and_never_printed() {
    assert!(
        SigningKey::new("k", &[0u8; 31]).is_err(),
        "secrets under 32 bytes"
    );
    assert!(SigningKey::new("", &[0u8; 32]).is_err());
    assert!(SigningKey::new("has space", &[0u8; 32]).is_err());
    let key = SigningKey::new("k", b"super-secret-value-of-32-bytes!!").unwrap();
    assert!(!format!("{key:?}").contains("super-secret"));
    let ring = KeyRing::new(key.clone());
    assert!(ring.with_verify_only(key).is_err(), "duplicate kid");
}

#[tokio::test]
async fn rule_t_revoked_device_token_is_refused_on_the_next_request() {
    let f = Fixture::new(Policy::builder().delete_delay(std::time::Duration::ZERO));
    let owner = f.login("alice").await;
    let other = f.login("alice").await;
    assert!(
        f.service
            .authenticate(&other.tokens.access_token, None)
            .await
            .is_ok()
    );
    f.service
        .delete(&f.acting(&owner).await, other.device.id)
        .await
        .unwrap();
    assert!(matches!(
        f.service
            .authenticate(&other.tokens.access_token, None)
            .await,
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test]
async fn rule_t_token_whose_sub_is_not_the_devices_owner_is_refused() {
    let f = Fixture::defaults();
    let alice = f.login("alice").await;
    let forged = AccessTokenCodec::new(common::keys()).sign(&AccessClaims {
        sub: "bob".into(),
        did: alice.device.id.to_string(),
        iat: f.now().timestamp(),
        exp: f.now().timestamp() + 60,
        jti: "x".into(),
        transport: trusted_devices_core::Transport::Bearer,
        cnf: None,
    });
    assert!(matches!(
        f.service.authenticate(&forged, None).await,
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test]
async fn rule_t_authenticate_touches_last_seen_at_most_once_per_interval() {
    let f = Fixture::defaults(); // touch_interval 5 min
    let login = f.login("alice").await;
    let ip = "198.51.100.1".parse().ok();
    f.advance(TimeDelta::minutes(5) - TimeDelta::seconds(1));
    let seen = f
        .service
        .authenticate(&login.tokens.access_token, ip)
        .await
        .unwrap();
    assert_eq!(
        seen.device.last_seen_at, login.device.created_at,
        "within the interval: no write"
    );
    f.advance(TimeDelta::seconds(1));
    let seen = f
        .service
        .authenticate(&login.tokens.access_token, ip)
        .await
        .unwrap();
    assert_eq!(seen.device.last_seen_at, f.now());
    assert_eq!(seen.device.last_ip, ip);
    let stored = f
        .service
        .devices()
        .get(login.device.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.last_seen_at, stored.last_ip), (f.now(), ip));
}

#[tokio::test]
async fn rule_t_a_refresh_inside_touch_interval_does_not_write_last_seen_again() {
    let f = Fixture::defaults(); // touch_interval 5 min
    let login = f.login("alice").await;
    f.advance(TimeDelta::minutes(5));
    f.service
        .authenticate(&login.tokens.access_token, None)
        .await
        .unwrap();
    let touched = f.now();
    f.advance(TimeDelta::minutes(1));
    f.service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    let device = f
        .service
        .devices()
        .get(login.device.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        device.last_seen_at, touched,
        "written twice inside touch_interval"
    );
    assert_eq!(
        device.idle_expires_at,
        f.now() + TimeDelta::days(30),
        "the idle deadline still moved"
    );
}

/// A token another JWT library signed with the shared key (other field order, spacing, no
/// `typ`) verifies like one of ours: only tokens with exactly our own header skip parsing.
#[tokio::test]
async fn rule_t_tokens_from_other_jwt_libraries_verify() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let (header, claims) = parts(&login.tokens.access_token);
    let kid = header["kid"].as_str().unwrap();
    let other_header = format!(r#"{{ "kid": "{kid}", "alg": "HS256" }}"#);
    let input = format!(
        "{}.{}",
        B64.encode(other_header.as_bytes()),
        B64.encode(serde_json::to_vec(&claims).unwrap())
    );
    let token = sign_segments(&input);
    let verified = f.service.verify(&token, None).await.unwrap();
    assert_eq!(verified.device.id, login.device.id);
    let critical = other_header.replace(r#""alg""#, r#""crit": ["exp"], "alg""#);
    let input = format!(
        "{}.{}",
        B64.encode(critical.as_bytes()),
        B64.encode(serde_json::to_vec(&claims).unwrap())
    );
    let token = sign_segments(&input);
    assert!(matches!(
        f.service.verify(&token, None).await,
        Err(Error::TokenInvalid)
    ));
}
