//! The conformance suite against a real redis-server and a real 3-node Redis Cluster, with
//! four separate clients standing for four servers.
//!
//! Servers come from TD_TEST_REDIS_URL and TD_TEST_REDIS_CLUSTER_URLS (the README's test
//! command starts throwaway ones). Without them these tests say loudly that they were
//! skipped, and fail when `CI` is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::sync::Arc;

use redis::AsyncCommands;
use trusted_devices_core::testing::{Stores, run_conformance, sample_device, unique_user};
use trusted_devices_core::{DeviceLimit, DeviceRepository, StorageError, TokenStore};
use trusted_devices_redis::RedisStore;

const CLIENTS: usize = 4;

fn server(variable: &str, test: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{test}: {variable} is not set, and CI requires the Redis tests")
        }
        _ => {
            // Straight to the stderr handle: libtest captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED {test}: no Redis (set {variable}, or run scripts/test) ***"
            );
            None
        }
    }
}

/// A key prefix of this test run alone, so runs never see each other's index entries.
fn prefix(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("td-test-{label}-{nanos}")
}

fn stores<C>(handles: &[RedisStore<C>]) -> Stores
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync + 'static,
{
    let devices = handles
        .iter()
        .map(|s| Arc::new(s.clone()) as Arc<dyn DeviceRepository>)
        .collect();
    let tokens = handles
        .iter()
        .map(|s| Arc::new(s.clone()) as Arc<dyn TokenStore>)
        .collect();
    Stores::new(devices, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_single_node_with_four_clients_passes_the_conformance_suite() {
    let Some(url) = server(
        "TD_TEST_REDIS_URL",
        "redis_single_node_with_four_clients_passes_the_conformance_suite",
    ) else {
        return;
    };
    let prefix = prefix("single");
    let mut handles = Vec::new();
    for _ in 0..CLIENTS {
        handles.push(RedisStore::connect(&url).await.unwrap().prefix(&prefix));
    }
    run_conformance(stores(&handles)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cluster_of_three_nodes_passes_the_conformance_suite() {
    let Some(urls) = server(
        "TD_TEST_REDIS_CLUSTER_URLS",
        "redis_cluster_of_three_nodes_passes_the_conformance_suite",
    ) else {
        return;
    };
    let nodes: Vec<&str> = urls.split(',').collect();
    let prefix = prefix("cluster");
    let mut handles = Vec::new();
    for _ in 0..CLIENTS {
        handles.push(
            RedisStore::connect_cluster(&nodes)
                .await
                .unwrap()
                .prefix(&prefix),
        );
    }
    run_conformance(stores(&handles)).await;
}

#[tokio::test]
async fn redis_every_key_carries_a_ttl() {
    let Some(url) = server("TD_TEST_REDIS_URL", "redis_every_key_carries_a_ttl") else {
        return;
    };
    let prefix = prefix("ttl");
    let store = RedisStore::connect(&url).await.unwrap().prefix(&prefix);
    let service =
        trusted_devices_core::TrustedDevices::builder(trusted_devices_core::KeyRing::new(
            trusted_devices_core::SigningKey::new("k", &[1u8; 32]).unwrap(),
        ))
        .devices(Arc::new(store.clone()))
        .tokens(Arc::new(store))
        .build();
    let user = unique_user("ttl");
    let login = service
        .login(user, trusted_devices_core::DeviceInfo::new())
        .await
        .unwrap();
    service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();

    let client = redis::Client::open(url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = connection.keys(format!("{prefix}:*")).await.unwrap();
    assert!(
        keys.len() >= 8,
        "devices, indexes, owner, tokens, token set: {keys:?}"
    );
    for key in keys {
        let ttl: i64 = connection.pttl(&key).await.unwrap();
        assert!(ttl > 0, "{key} has no TTL ({ttl})");
    }
}

#[tokio::test]
async fn redis_refuses_an_unknown_stored_format_version() {
    let Some(url) = server(
        "TD_TEST_REDIS_URL",
        "redis_refuses_an_unknown_stored_format_version",
    ) else {
        return;
    };
    let prefix = prefix("version");
    let store = RedisStore::connect(&url).await.unwrap().prefix(&prefix);
    let user = unique_user("version");
    // Whole microseconds, as every store keeps them.
    let now =
        chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros()).unwrap();
    let device = sample_device(&user, now);
    store
        .create(device.clone(), DeviceLimit::NONE)
        .await
        .unwrap();
    assert_eq!(store.get(device.id).await.unwrap(), Some(device.clone()));

    let client = redis::Client::open(url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = connection
        .keys(format!("{prefix}:*:dev:{}", device.id))
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    connection
        .hset::<_, _, _, ()>(&keys[0], "v", "2")
        .await
        .unwrap();
    let error = store.get(device.id).await.unwrap_err();
    assert!(matches!(error, StorageError::Corrupt { .. }), "{error:?}");
}

#[tokio::test]
async fn redis_unreachable_server_is_storage_unavailable() {
    if server(
        "TD_TEST_REDIS_URL",
        "redis_unreachable_server_is_storage_unavailable",
    )
    .is_none()
    {
        return;
    }
    // Port 1 on loopback: nothing listens there.
    let error = RedisStore::connect("redis://127.0.0.1:1")
        .await
        .unwrap_err();
    assert!(matches!(error, StorageError::Unavailable(_)), "{error:?}");
    assert!(
        std::error::Error::source(&error).is_some(),
        "the driver error is kept"
    );
}
