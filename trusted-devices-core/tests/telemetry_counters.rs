//! The counters of issue 14 (`telemetry.rs`): logins, refreshes, reuse, revocations by
//! reason, rate-limited requests, storage errors and cache reads, through the `metrics`
//! facade, seen by a recorder of this test's own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::keys;
use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use trusted_devices_core::cache::LocalFeed;
use trusted_devices_core::rate_limit::RateLimit;
use trusted_devices_core::{DeviceInfo, ManualClock, Policy, TrustedDevices, UserId};

struct Count(AtomicU64);

impl CounterFn for Count {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

/// Counters by `name{label=value,...}`.
#[derive(Default)]
struct Counters(Mutex<BTreeMap<String, Arc<Count>>>);

impl Counters {
    fn get(&self, name: &str) -> u64 {
        let counters = self.0.lock().unwrap();
        counters
            .get(name)
            .map_or(0, |count| count.0.load(Ordering::Relaxed))
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = if labels.is_empty() {
            key.name().to_owned()
        } else {
            format!("{}{{{}}}", key.name(), labels.join(","))
        };
        let count = self
            .0
            .lock()
            .unwrap()
            .entry(name)
            .or_insert_with(|| Arc::new(Count(AtomicU64::new(0))))
            .clone();
        Counter::from_arc(count)
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[test]
fn every_counter_moves_with_what_it_counts() {
    let counters = Counters::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    metrics::with_local_recorder(&counters, || {
        runtime.block_on(async {
            let policy = Policy::builder()
                .delete_delay(Duration::ZERO)
                .refresh_reuse_grace(Duration::ZERO)
                .login_rate_per_ip(RateLimit::new(1, Duration::from_secs(60)))
                .build()
                .unwrap();
            let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
            let service = TrustedDevices::builder(keys())
                .policy(policy)
                .clock(clock.clone())
                .revocation_feed(Arc::new(LocalFeed::new()))
                .build();
            let alice = || UserId::new("alice").unwrap();
            let a = service.login(alice(), DeviceInfo::new()).await.unwrap();
            let b = service.login(alice(), DeviceInfo::new()).await.unwrap();
            let acting = service
                .authenticate(&a.tokens.access_token, None)
                .await
                .unwrap();
            service
                .authenticate(&a.tokens.access_token, None)
                .await
                .unwrap();
            service.delete(&acting, b.device.id).await.unwrap();
            service
                .refresh(a.tokens.refresh_token.expose(), None)
                .await
                .unwrap();
            clock.advance(chrono::TimeDelta::seconds(1)); // past the zero grace
            let reuse = service.refresh(a.tokens.refresh_token.expose(), None).await;
            assert!(reuse.is_err());
            let ip = Some("203.0.113.7".parse().unwrap());
            service.attempt_login("bob", ip).await.map(drop).unwrap();
            assert!(service.attempt_login("bob", ip).await.is_err());
        });
    });
    assert_eq!(counters.get("trusted_devices_logins_total"), 2);
    assert_eq!(counters.get("trusted_devices_refreshes_total"), 1);
    assert_eq!(counters.get("trusted_devices_refresh_reuse_total"), 1);
    assert_eq!(
        counters.get("trusted_devices_revocations_total{reason=revoked_by_device}"),
        1
    );
    assert_eq!(
        counters.get("trusted_devices_revocations_total{reason=refresh_reuse}"),
        1
    );
    assert_eq!(
        counters.get("trusted_devices_rate_limited_total{bucket=login_ip}"),
        1
    );
    assert!(counters.get("trusted_devices_device_cache_total{result=hit}") >= 1);
    assert!(counters.get("trusted_devices_device_cache_total{result=miss}") >= 1);
}
