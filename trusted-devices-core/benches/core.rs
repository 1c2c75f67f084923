//! Core hot paths on the in-memory stores, against raw HMAC-SHA256 over the same bytes as
//! the floor: every access token costs at least one HMAC.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::runtime::Runtime;
use trusted_devices_core::{DeviceInfo, KeyRing, Policy, SigningKey, TrustedDevices, UserId};

const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Rule K's limits off: the service counts every login with a client address now, and a
/// benchmark logs in far more often than any limit allows. The limiter is measured on its
/// own (`where_from`'s `rate_limit/*`).
fn service() -> TrustedDevices {
    let policy = Policy::builder().rate_limits(false).build().unwrap();
    TrustedDevices::builder(KeyRing::new(SigningKey::new("k1", SECRET).unwrap()))
        .policy(policy)
        .build()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

async fn login(service: &TrustedDevices, user: &str) -> trusted_devices_core::LoginOutcome {
    let info = DeviceInfo::new()
        .user_agent(USER_AGENT)
        .ip("203.0.113.7".parse().unwrap());
    service
        .login(UserId::new(user).unwrap(), info)
        .await
        .unwrap()
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let shared = service();
    let session = rt.block_on(login(&shared, "alice"));
    let access_token = session.tokens.access_token.clone();

    // The floor: HMAC-SHA256 over exactly the signing input of a real access token.
    let signing_input = access_token.rsplit_once('.').unwrap().0.to_owned();
    let mut group = c.benchmark_group("core");
    group.bench_function("hmac_sha256_floor", |b| {
        b.iter(|| {
            let mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
            black_box(
                mac.chain_update(black_box(signing_input.as_bytes()))
                    .finalize(),
            )
        });
    });

    group.bench_function("verify", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(shared.verify(&access_token, None).await.unwrap()) });
    });

    group.bench_function("authenticate", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(shared.authenticate(&access_token, None).await.unwrap()) });
    });

    // Each refresh consumes the token the previous one returned, as a client would.
    let current = Mutex::new(session.tokens.refresh_token.expose().to_owned());
    group.bench_function("refresh", |b| {
        b.to_async(&rt).iter(|| async {
            let token = current.lock().unwrap().clone();
            let pair = shared.refresh(&token, None).await.unwrap();
            *current.lock().unwrap() = pair.refresh_token.expose().to_owned();
        });
    });

    // A fresh service per sample keeps the store from growing across the whole run.
    group.bench_function("login", |b| {
        b.iter_custom(|iterations| {
            let fresh = service();
            let users: Vec<String> = (0..iterations)
                .map(|i| format!("user-{}", i % 1000))
                .collect();
            let start = Instant::now();
            rt.block_on(async {
                for user in &users {
                    black_box(login(&fresh, user).await);
                }
            });
            start.elapsed()
        });
    });
    group.finish();
}

criterion_group! {
    name = core;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(core);
