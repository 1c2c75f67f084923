//! authenticate and refresh through the service on SQLite (a WAL file), PostgreSQL and Redis
//! (devices and tokens both in Redis), each against the in-memory stores in the same run.
//! PostgreSQL and Redis come from TD_TEST_POSTGRES_URL and TD_TEST_REDIS_URL (`scripts/bench`
//! starts throwaway ones); without them those backends are not measured.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use trusted_devices_core::cache::LocalFeed;
use trusted_devices_core::{
    DeviceInfo, DeviceRepository, KeyRing, SigningKey, TokenStore, TrustedDevices, UserId,
};
use trusted_devices_redis::RedisStore;
use trusted_devices_sqlx::{PostgresStore, SqliteStore};

fn service(devices: Arc<dyn DeviceRepository>, tokens: Arc<dyn TokenStore>) -> TrustedDevices {
    let key = SigningKey::new("k1", b"0123456789abcdef0123456789abcdef").unwrap();
    TrustedDevices::builder(KeyRing::new(key))
        .devices(devices)
        .tokens(tokens)
        .build()
}

fn backends(rt: &Runtime) -> Vec<(&'static str, TrustedDevices)> {
    let mut backends = vec![(
        "memory",
        TrustedDevices::builder(KeyRing::new(
            SigningKey::new("k1", b"0123456789abcdef0123456789abcdef").unwrap(),
        ))
        .build(),
    )];
    let path = std::env::temp_dir().join(format!("td-bench-{}.db", std::process::id()));
    let sqlite = rt.block_on(async {
        let store = SqliteStore::connect(&format!("sqlite:{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        Arc::new(store)
    });
    backends.push(("sqlite", service(sqlite.clone(), sqlite.clone())));
    // Rule T's device cache over SQLite, under the in-process feed (one server).
    let key = SigningKey::new("k1", b"0123456789abcdef0123456789abcdef").unwrap();
    let cached = TrustedDevices::builder(KeyRing::new(key))
        .devices(sqlite.clone())
        .tokens(sqlite)
        .revocation_feed(Arc::new(LocalFeed::new()))
        .build();
    backends.push(("sqlite+cache", cached));
    match std::env::var("TD_TEST_POSTGRES_URL") {
        Ok(url) => {
            let postgres = rt.block_on(async {
                let store = PostgresStore::connect(&url).await.unwrap();
                store.migrate().await.unwrap();
                Arc::new(store)
            });
            backends.push(("postgres", service(postgres.clone(), postgres)));
        }
        Err(_) => eprintln!("TD_TEST_POSTGRES_URL is not set: PostgreSQL is not measured"),
    }
    match std::env::var("TD_TEST_REDIS_URL") {
        Ok(url) => {
            let redis = rt.block_on(async {
                let prefix = format!("td-bench-{}", std::process::id());
                Arc::new(RedisStore::connect(&url).await.unwrap().prefix(&prefix))
            });
            backends.push(("redis", service(redis.clone(), redis)));
        }
        Err(_) => eprintln!("TD_TEST_REDIS_URL is not set: Redis is not measured"),
    }
    backends
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (name, service) in backends(&rt) {
        let login = rt
            .block_on(service.login(UserId::new("bench").unwrap(), DeviceInfo::new()))
            .unwrap();
        let access = login.tokens.access_token.clone();
        c.benchmark_group("authenticate").bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(service.authenticate(&access, None).await.unwrap()) });
        });
        let current = Mutex::new(login.tokens.refresh_token.expose().to_owned());
        c.benchmark_group("refresh").bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let token = current.lock().unwrap().clone();
                let pair = service.refresh(&token, None).await.unwrap();
                *current.lock().unwrap() = pair.refresh_token.expose().to_owned();
            });
        });
    }
}

criterion_group! {
    name = stores;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(stores);
