//! Issue 13's costs, each against its baseline in the same run:
//! - `login/plain` vs `login/geo+risk`: a login on the in-memory stores without a
//!   geolocator or hook, against one with an offline MaxMind DB lookup (a database this
//!   benchmark writes: 1,000 networks), CDN headers tried first, and rule G's signals
//!   against the user's other devices (the hook makes the service read them); each user
//!   holds five devices (`max_devices` 5, the oldest evicted);
//! - `rate_limit/memory` vs `rate_limit/redis`: one rule K check (take a token) on the
//!   in-memory limiter and on Redis (TD_TEST_REDIS_URL; `scripts/bench` starts one).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use trusted_devices_core::rate_limit::{
    Bucket, MemoryRateLimiter, RateKey, RateLimit, RateLimiter, Take,
};
use trusted_devices_core::{
    BoxError, DeviceInfo, Event, EventHook, Eviction, Geolocators, KeyRing, Policy, SigningKey,
    TrustedDevices, UserId, async_trait,
};
use trusted_devices_geoip::writer::{MmdbWriter, Value};
use trusted_devices_geoip::{CdnHeaders, MaxMindDb};
use trusted_devices_redis::RedisStore;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

struct Ignore;

#[async_trait]
impl EventHook for Ignore {
    async fn on_event(&self, event: &Event) -> Result<(), BoxError> {
        black_box(event);
        Ok(())
    }
}

fn keys() -> KeyRing {
    KeyRing::new(SigningKey::new("k1", b"0123456789abcdef0123456789abcdef").unwrap())
}

/// A City database of 1,000 /24 networks under 10.0.0.0/8, each with a city and coordinates.
fn database() -> std::path::PathBuf {
    let mut writer = MmdbWriter::new("Bench-City");
    for index in 0..1_000u32 {
        let network = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + (index << 8)));
        let names =
            |name: String| Value::map([("names", Value::map([("en", Value::String(name))]))]);
        writer.insert(
            ipnet::IpNet::new(network, 24).unwrap(),
            Value::map([
                ("country", names(format!("Country {}", index % 50))),
                ("city", names(format!("City {index}"))),
                (
                    "location",
                    Value::map([
                        ("latitude", Value::Double(f64::from(index % 90))),
                        ("longitude", Value::Double(f64::from(index % 180))),
                    ]),
                ),
            ]),
        );
    }
    let path = std::env::temp_dir().join(format!("td-bench-city-{}.mmdb", std::process::id()));
    std::fs::write(&path, writer.to_bytes()).unwrap();
    path
}

fn logins(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Each user holds five devices: a sixth login evicts the oldest.
    let policy = || {
        Policy::builder()
            .max_devices(Some(5))
            .eviction(Eviction::EvictOldest)
            // The service counts every login against rule K now; the limiter is measured
            // on its own below (`rate_limit/*`), so these logins measure the rest.
            .rate_limits(false)
            .build()
            .unwrap()
    };
    let plain = TrustedDevices::builder(keys()).policy(policy()).build();
    let path = database();
    let located = TrustedDevices::builder(keys())
        .policy(policy())
        .geolocator(Arc::new(
            Geolocators::new()
                .then(CdnHeaders::any())
                .then(MaxMindDb::open(&path).unwrap()),
        ))
        .hook(Arc::new(Ignore))
        .build();
    let _ = std::fs::remove_file(&path);
    let info = DeviceInfo::new()
        .user_agent(FIREFOX)
        .ip("10.0.42.7".parse().unwrap());
    // Each iteration logs in one of 1,000 users, who holds five devices.
    let users: Vec<UserId> = (0..1_000)
        .map(|n| UserId::new(format!("user-{n}")).unwrap())
        .collect();
    for service in [&plain, &located] {
        for user in &users {
            for _ in 0..5 {
                rt.block_on(service.login(user.clone(), info.clone()))
                    .unwrap();
            }
        }
    }
    let mut group = c.benchmark_group("login");
    for (name, service) in [("plain", &plain), ("geo+risk", &located)] {
        let next = AtomicU32::new(0);
        group.bench_function(name, |b| {
            b.iter(|| {
                let user = &users[(next.fetch_add(1, Ordering::Relaxed) % 1_000) as usize];
                rt.block_on(service.login(user.clone(), info.clone()))
                    .unwrap()
            });
        });
    }
}

fn rate_limits(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut limiters: Vec<(&str, Arc<dyn RateLimiter>)> =
        vec![("memory", Arc::new(MemoryRateLimiter::default()))];
    match std::env::var("TD_TEST_REDIS_URL") {
        Ok(url) => {
            let prefix = format!("td-bench-rl-{}", std::process::id());
            let redis = rt
                .block_on(RedisStore::connect(&url))
                .unwrap()
                .prefix(&prefix);
            limiters.push(("redis", Arc::new(redis)));
        }
        Err(_) => eprintln!("TD_TEST_REDIS_URL is not set: Redis is not measured"),
    }
    // A limit that never refuses during the run: the cost of an admitted check.
    let limit = RateLimit::new(u32::MAX, Duration::from_secs(1)).unwrap();
    let mut group = c.benchmark_group("rate_limit");
    for (name, limiter) in limiters {
        let next = AtomicU32::new(0);
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                // 10,000 client addresses in turn, as from many clients.
                let n = next.fetch_add(1, Ordering::Relaxed) % 10_000;
                let key = RateKey::client(
                    Bucket::LoginIp,
                    IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + n)),
                    64,
                );
                let limiter = Arc::clone(&limiter);
                async move {
                    black_box(
                        limiter
                            .check(&key, limit, chrono::Utc::now(), Take::One)
                            .await
                            .unwrap(),
                    )
                }
            });
        });
    }
}

criterion_group! {
    name = where_from;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = logins, rate_limits
}
criterion_main!(where_from);
