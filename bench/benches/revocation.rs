//! Rule T across servers: how long after a revocation answers on one server another server
//! refuses the device, through the PostgreSQL and the Redis feed. Two services, each with its
//! own connection and feed, devices cached for an hour (only the feed can explain a refusal);
//! for each sample a fresh device is cached on server B, revoked on server A, and B is polled
//! until it refuses. Prints p50, p99 and the worst of the samples. A custom harness: criterion
//! reports no percentiles. Servers come from TD_TEST_POSTGRES_URL and TD_TEST_REDIS_URL
//! (`scripts/bench` starts throwaway ones).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use trusted_devices_core::cache::RevocationFeed;
use trusted_devices_core::{
    DeviceInfo, DeviceRepository, KeyRing, Policy, SigningKey, TokenStore, TrustedDevices, UserId,
};
use trusted_devices_redis::{RedisFeed, RedisStore};
use trusted_devices_sqlx::{PostgresFeed, PostgresStore};

const SAMPLES: usize = 500;

fn server(
    devices: Arc<dyn DeviceRepository>,
    tokens: Arc<dyn TokenStore>,
    feed: Arc<dyn RevocationFeed>,
) -> TrustedDevices {
    let policy = Policy::builder()
        .delete_delay(Duration::ZERO)
        .device_cache_ttl(Duration::from_secs(3_600))
        .build()
        .unwrap();
    let key = SigningKey::new("k1", b"0123456789abcdef0123456789abcdef").unwrap();
    TrustedDevices::builder(KeyRing::new(key))
        .policy(policy)
        .devices(devices)
        .tokens(tokens)
        .revocation_feed(feed)
        .build()
}

/// Revocation delays, one per sample: A revokes, B is polled until it refuses.
async fn delays(a: &TrustedDevices, b: &TrustedDevices) -> Vec<Duration> {
    let user = UserId::new(format!("revocation-bench-{}", std::process::id())).unwrap();
    let owner = a.login(user.clone(), DeviceInfo::new()).await.unwrap();
    let mut delays = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let phone = a.login(user.clone(), DeviceInfo::new()).await.unwrap();
        let token = phone.tokens.access_token.as_str();
        b.authenticate(token, None).await.unwrap();
        let acting = a
            .authenticate(&owner.tokens.access_token, None)
            .await
            .unwrap();
        a.delete(&acting, phone.device.id).await.unwrap();
        let revoked = Instant::now();
        while b.authenticate(token, None).await.is_ok() {
            assert!(revoked.elapsed() < Duration::from_secs(5), "never refused");
            tokio::task::yield_now().await;
        }
        delays.push(revoked.elapsed());
    }
    delays
}

fn report(name: &str, mut delays: Vec<Duration>) {
    delays.sort();
    let at = |quantile: f64| {
        let index = ((delays.len() as f64 - 1.0) * quantile).round() as usize;
        delays[index]
    };
    println!(
        "revocation/{name}: {} samples, p50 {:?}, p99 {:?}, worst {:?}",
        delays.len(),
        at(0.5),
        at(0.99),
        delays[delays.len() - 1]
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match std::env::var("TD_TEST_POSTGRES_URL") {
            Ok(url) => {
                let mut servers = Vec::new();
                for _ in 0..2 {
                    let store = PostgresStore::connect(&url).await.unwrap();
                    store.migrate().await.unwrap();
                    let feed = Arc::new(PostgresFeed::start(&store).await.unwrap());
                    let store = Arc::new(store);
                    servers.push(server(store.clone(), store, feed));
                }
                report("postgres", delays(&servers[0], &servers[1]).await);
            }
            Err(_) => eprintln!("TD_TEST_POSTGRES_URL is not set: PostgreSQL is not measured"),
        }
        match std::env::var("TD_TEST_REDIS_URL") {
            Ok(url) => {
                let prefix = format!("td-bench-revocation-{}", std::process::id());
                let mut servers = Vec::new();
                for _ in 0..2 {
                    let store = RedisStore::connect(&url).await.unwrap().prefix(&prefix);
                    let feed = Arc::new(RedisFeed::start(&url, &store).await.unwrap());
                    let store = Arc::new(store);
                    servers.push(server(store.clone(), store, feed));
                }
                report("redis", delays(&servers[0], &servers[1]).await);
            }
            Err(_) => eprintln!("TD_TEST_REDIS_URL is not set: Redis is not measured"),
        }
    });
}
