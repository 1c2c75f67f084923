//! SPEC §9's cost: checking a DPoP proof against the bare signature checks of every
//! constant-time P-256 and Ed25519 a Rust server can depend on (RustCrypto, ring, which the
//! core uses, and aws-lc-rs), on the same bytes in the same run; and authenticating with a
//! proof against with a bearer token, on the in-memory stores.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use p256::ecdsa::signature::Verifier as _;
use trusted_devices_core::LoginRequest;
use trusted_devices_core::Presented;
use trusted_devices_core::dpop::{
    DpopKey, DpopRequest, MemoryProofReplayCache, ProofFor, PublicOrigin, check_proof,
};
use trusted_devices_core::{
    DeviceInfo, KeyRing, Policy, SeededRandom, SigningKey, Transport, TrustedDevices, UserId,
};

const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";
const ME: &str = "https://api.example.com/me";
const LOGIN: &str = "https://api.example.com/auth/login";

fn proof(key: &DpopKey, method: &str, uri: &str, token: Option<&str>) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let jti = NEXT.fetch_add(1, Ordering::Relaxed).to_string();
    key.proof(&ProofFor {
        method,
        uri,
        issued_at: Utc::now().timestamp(),
        jti: &jti,
        access_token: token,
        nonce: None,
    })
}

fn benches(c: &mut Criterion) {
    let key = DpopKey::generate_es256(&SeededRandom::new(1));
    let DpopKey::Es256(signing) = &key else {
        unreachable!("an ES256 key")
    };
    let verifying = *signing.verifying_key();
    let token = "an.access.token";
    let one = proof(&key, "GET", ME, Some(token));
    let (signing_input, signature) = one.rsplit_once('.').unwrap();
    let signature = {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .unwrap();
        p256::ecdsa::Signature::from_slice(&raw).unwrap()
    };
    let origins = [PublicOrigin::parse("https://api.example.com").unwrap()];
    let mut group = c.benchmark_group("dpop");
    // The same signature on the same bytes by each constant-time P-256 a Rust server can
    // depend on: RustCrypto's (pure Rust), ring (chosen), aws-lc-rs.
    group.bench_function("es256_verify_p256", |b| {
        b.iter(|| {
            black_box(
                verifying
                    .verify(black_box(signing_input.as_bytes()), &signature)
                    .is_ok(),
            )
        });
    });
    let point = verifying.to_sec1_point(false).as_bytes().to_vec();
    let raw_signature = signature.to_bytes();
    group.bench_function("es256_verify_ring", |b| {
        use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        b.iter(|| {
            let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, black_box(&point[..]));
            black_box(key.verify(signing_input.as_bytes(), &raw_signature).is_ok())
        });
    });
    group.bench_function("es256_verify_aws_lc", |b| {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        b.iter(|| {
            let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, black_box(&point[..]));
            black_box(key.verify(signing_input.as_bytes(), &raw_signature).is_ok())
        });
    });
    let request = DpopRequest {
        proof: &one,
        method: "GET",
        origins: &origins,
        path: "/me",
    };
    group.bench_function("check_proof", |b| {
        b.iter(|| {
            black_box(check_proof(
                black_box(&request),
                Some(token),
                Utc::now(),
                TimeDelta::seconds(60),
            ))
            .unwrap()
        });
    });

    // The same for an Ed25519 key.
    let edwards = DpopKey::generate_ed25519(&SeededRandom::new(2));
    let DpopKey::Ed25519(edwards_signing) = &edwards else {
        unreachable!("an Ed25519 key")
    };
    let edwards_verifying = edwards_signing.verifying_key();
    let edwards_proof = proof(&edwards, "GET", ME, Some(token));
    let (edwards_input, edwards_signature) = edwards_proof.rsplit_once('.').unwrap();
    let edwards_signature = {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(edwards_signature)
            .unwrap();
        ed25519_dalek::Signature::from_slice(&raw).unwrap()
    };
    group.bench_function("eddsa_verify_dalek", |b| {
        b.iter(|| {
            black_box(
                edwards_verifying
                    .verify_strict(black_box(edwards_input.as_bytes()), &edwards_signature)
                    .is_ok(),
            )
        });
    });
    let edwards_public = edwards_verifying.to_bytes();
    let edwards_raw = edwards_signature.to_bytes();
    group.bench_function("eddsa_verify_ring", |b| {
        use ring::signature::{ED25519, UnparsedPublicKey};
        b.iter(|| {
            let key = UnparsedPublicKey::new(&ED25519, black_box(&edwards_public[..]));
            black_box(key.verify(edwards_input.as_bytes(), &edwards_raw).is_ok())
        });
    });
    group.bench_function("eddsa_verify_aws_lc", |b| {
        use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
        b.iter(|| {
            let key = UnparsedPublicKey::new(&ED25519, black_box(&edwards_public[..]));
            black_box(key.verify(edwards_input.as_bytes(), &edwards_raw).is_ok())
        });
    });
    let edwards_request = DpopRequest {
        proof: &edwards_proof,
        method: "GET",
        origins: &origins,
        path: "/me",
    };
    group.bench_function("check_proof_eddsa", |b| {
        b.iter(|| {
            black_box(check_proof(
                black_box(&edwards_request),
                Some(token),
                Utc::now(),
                TimeDelta::seconds(60),
            ))
            .unwrap()
        });
    });

    // The service: bearer authentication against DPoP authentication (proof, replay
    // cache, device's key), each with its own device.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let service = TrustedDevices::builder(KeyRing::new(SigningKey::new("k1", SECRET).unwrap()))
        .policy(Policy::builder().rate_limits(false).build().unwrap())
        // Millions of proofs from one key in a minute: far past the default bound.
        .proof_replay_cache(Arc::new(MemoryProofReplayCache::new(
            usize::MAX,
            usize::MAX,
        )))
        .build();
    let user = || UserId::new("alice").unwrap();
    let bearer = rt
        .block_on(service.login(user(), DeviceInfo::new()))
        .unwrap();
    let login_proof = proof(&key, "POST", LOGIN, None);
    let bound = rt
        .block_on(
            service.login(
                user(),
                LoginRequest::new(DeviceInfo::new())
                    .transport(Transport::Bearer)
                    .proof(Some(DpopRequest {
                        proof: &login_proof,
                        method: "POST",
                        origins: &origins,
                        path: "/auth/login",
                    })),
            ),
        )
        .unwrap();
    let bearer_token = bearer.tokens.access_token.clone();
    let bound_token = bound.tokens.access_token.clone();
    group.bench_function("authenticate_bearer", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(service.authenticate(&bearer_token, None).await.unwrap()) });
    });
    group.bench_function("authenticate_dpop", |b| {
        b.iter_batched(
            || proof(&key, "GET", ME, Some(&bound_token)),
            |proof| {
                let request = DpopRequest {
                    proof: &proof,
                    method: "GET",
                    origins: &origins,
                    path: "/me",
                };
                rt.block_on(
                    service.authenticate(Presented::dpop(&bound_token, Some(request)), None),
                )
                .unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group! {
    name = dpop;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(dpop);
