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
use std::time::Duration;

use redis::AsyncCommands;
use trusted_devices_core::audit::AuditLog;
use trusted_devices_core::cache::Heartbeat;
use trusted_devices_core::dpop::{PROOF_SHARE_PER_KEY, ProofReplayCache};
use trusted_devices_core::rate_limit::RateLimiter;
use trusted_devices_core::testing::{
    Stores, feed, run_audit_log_suite, run_conformance, run_proof_replay_suite,
    run_rate_limiter_suite, sample_device, section_9_a_key_beyond_its_share_is_over_share,
    unique_user,
};
use trusted_devices_core::{
    DeviceLimit, DeviceRepository, StorageError, TokenStore, TrustedDevices,
};
use trusted_devices_redis::{RedisFeed, RedisStore};
use trusted_devices_tokio::{FreezingProxy, check_heartbeat_notices_half_open};

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

/// The service over one store for both devices and tokens, default policy.
fn service(store: RedisStore) -> trusted_devices_core::TrustedDevices {
    trusted_devices_core::TrustedDevices::builder(trusted_devices_core::KeyRing::new(
        trusted_devices_core::SigningKey::new("k", &[1u8; 32]).unwrap(),
    ))
    .devices(Arc::new(store.clone()))
    .tokens(Arc::new(store))
    .build()
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
    run_rate_limiter_suite(&limiters(&handles)).await;
    run_audit_log_suite(&audit_logs(&handles)).await;
    run_proof_replay_suite(&proof_replays(&handles)).await;
    section_9_a_key_beyond_its_share_is_over_share(&proof_replays(&handles), PROOF_SHARE_PER_KEY)
        .await;
    // Buckets expire once full again: no key is left forever.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let buckets: Vec<String> = connection.keys(format!("{prefix}:rl:*")).await.unwrap();
    assert!(!buckets.is_empty());
    let proofs: Vec<String> = connection.keys(format!("{prefix}:dpop:*")).await.unwrap();
    assert!(!proofs.is_empty());
    let histories: Vec<String> = connection.keys(format!("{prefix}:*audit*")).await.unwrap();
    assert!(histories.len() >= 3, "{histories:?}");
    for key in buckets.into_iter().chain(histories).chain(proofs) {
        let ttl: i64 = connection.pttl(&key).await.unwrap();
        assert!(ttl > 0, "{key} has no TTL ({ttl})");
    }
}

/// The handles as rule H audit logs.
fn audit_logs<C>(handles: &[RedisStore<C>]) -> Vec<Arc<dyn AuditLog>>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync + 'static,
{
    handles
        .iter()
        .map(|handle| Arc::new(handle.clone()) as Arc<dyn AuditLog>)
        .collect()
}

/// The handles as DPoP replay caches (SPEC §9).
fn proof_replays<C>(handles: &[RedisStore<C>]) -> Vec<Arc<dyn ProofReplayCache>>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync + 'static,
{
    handles
        .iter()
        .map(|handle| Arc::new(handle.clone()) as Arc<dyn ProofReplayCache>)
        .collect()
}

/// The handles as rule K limiters (several clients stand for several servers).
fn limiters<C>(handles: &[RedisStore<C>]) -> Vec<Arc<dyn RateLimiter>>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync + 'static,
{
    handles
        .iter()
        .map(|handle| Arc::new(handle.clone()) as Arc<dyn RateLimiter>)
        .collect()
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
    run_rate_limiter_suite(&limiters(&handles)).await;
    run_audit_log_suite(&audit_logs(&handles)).await;
    run_proof_replay_suite(&proof_replays(&handles)).await;
}

#[tokio::test]
async fn redis_every_key_carries_a_ttl() {
    let Some(url) = server("TD_TEST_REDIS_URL", "redis_every_key_carries_a_ttl") else {
        return;
    };
    let prefix = prefix("ttl");
    let service = service(RedisStore::connect(&url).await.unwrap().prefix(&prefix));
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

/// A client of the test server for looking at (and damaging) keys directly.
async fn raw_connection(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

/// Deletes a device's hash behind the store's back, as a passed TTL or maxmemory would.
async fn drop_device_hash(
    connection: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    id: trusted_devices_core::DeviceId,
) {
    let keys: Vec<String> = connection
        .keys(format!("{prefix}:*:dev:{id}"))
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    connection.del::<_, ()>(&keys[0]).await.unwrap();
}

#[tokio::test]
async fn redis_dangling_index_entries_never_count_against_max_devices() {
    use trusted_devices_core::{CreateOutcome, Eviction};
    let Some(url) = server(
        "TD_TEST_REDIS_URL",
        "redis_dangling_index_entries_never_count_against_max_devices",
    ) else {
        return;
    };
    let prefix = prefix("dangling");
    let store = RedisStore::connect(&url).await.unwrap().prefix(&prefix);
    let mut raw = raw_connection(&url).await;
    let user = unique_user("dangling");
    let now =
        chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros()).unwrap();
    let limit = |max, eviction| DeviceLimit {
        single_login: false,
        max_devices: std::num::NonZeroU32::new(max),
        eviction,
    };
    let devices: Vec<_> = (0..3)
        .map(|i| sample_device(&user, now + chrono::TimeDelta::seconds(i)))
        .collect();
    for device in &devices {
        store
            .create(device.clone(), limit(3, Eviction::Reject))
            .await
            .unwrap();
    }
    drop_device_hash(&mut raw, &prefix, devices[0].id).await;
    let newcomer = sample_device(&user, now + chrono::TimeDelta::seconds(10));
    let outcome = store
        .create(newcomer.clone(), limit(3, Eviction::Reject))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        CreateOutcome::Created { displaced: vec![] },
        "redis: a device whose hash has gone does not count against max_devices"
    );
    let created: i64 = raw
        .zcard(format!("{prefix}:{{u:{}}}:created", tag(&user)))
        .await
        .unwrap();
    assert_eq!(created, 3, "redis: the dangling entry was pruned");

    // Eviction must not fail half-way on a dangling entry: the oldest one has gone.
    drop_device_hash(&mut raw, &prefix, devices[1].id).await;
    let last = sample_device(&user, now + chrono::TimeDelta::seconds(20));
    let outcome = store
        .create(last.clone(), limit(2, Eviction::EvictOldest))
        .await
        .unwrap();
    let CreateOutcome::Created { displaced } = outcome else {
        panic!("redis: eviction refused: {outcome:?}");
    };
    assert_eq!(
        displaced.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![devices[2].id],
        "redis: only a real device is evicted"
    );
    let listed: Vec<_> = store
        .list(&user)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, vec![newcomer.id, last.id]);

    // Removing every device prunes dangling entries too.
    drop_device_hash(&mut raw, &prefix, newcomer.id).await;
    let removed = store.delete_all(&user).await.unwrap();
    assert_eq!(
        removed.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![last.id]
    );
    let created: i64 = raw
        .zcard(format!("{prefix}:{{u:{}}}:created", tag(&user)))
        .await
        .unwrap();
    assert_eq!(created, 0, "redis: nothing dangling is left behind");
}

/// The user's key tag, as the store writes it (base64url of the id).
fn tag(user: &trusted_devices_core::UserId) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(user.as_str())
}

#[tokio::test]
async fn refresh_tokens_redis_seals_expire_with_the_grace() {
    let Some(url) = server(
        "TD_TEST_REDIS_URL",
        "refresh_tokens_redis_seals_expire_with_the_grace",
    ) else {
        return;
    };
    let prefix = prefix("seal");
    let service = service(RedisStore::connect(&url).await.unwrap().prefix(&prefix)); // grace 10 s
    let login = service
        .login(unique_user("seal"), trusted_devices_core::DeviceInfo::new())
        .await
        .unwrap();
    service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    let mut raw = raw_connection(&url).await;
    let seals: Vec<String> = raw.keys(format!("{prefix}:*:seal:*")).await.unwrap();
    assert_eq!(seals.len(), 1, "{seals:?}");
    let ttl: i64 = raw.pttl(&seals[0]).await.unwrap();
    assert!(
        ttl > 0 && ttl <= 11_000,
        "refresh tokens: the seal is forgotten once the grace (10 s, plus 1 s) has passed: {ttl} ms"
    );
    let token_keys: Vec<String> = raw.keys(format!("{prefix}:*:rt:*")).await.unwrap();
    for key in token_keys {
        let sealed: Option<String> = raw.hget(&key, "sealed").await.unwrap();
        assert_eq!(sealed, None, "no seal is kept in a token record: {key}");
    }
}

/// Four servers (each its own connection and feed) on one Redis under `prefix`.
async fn feed_servers(url: &str, prefix: &str) -> Vec<TrustedDevices> {
    feed::servers(CLIENTS, || async {
        let store = RedisStore::connect(url).await.unwrap().prefix(prefix);
        let feed = Arc::new(RedisFeed::start(url, &store).await.unwrap());
        let store = Arc::new(store);
        (store.clone() as _, store as _, feed as _)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule_t_redis_feed_carries_a_revocation_to_every_server() {
    let test = "rule_t_redis_feed_carries_a_revocation_to_every_server";
    let Some(url) = server("TD_TEST_REDIS_URL", test) else {
        return;
    };
    let servers = feed_servers(&url, &prefix("feed")).await;
    let delays = feed::revocation_reaches_every_server(&servers).await;
    let _ = writeln!(
        std::io::stderr(),
        "rule T, Redis feed: refused on each server after {delays:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule_t_redis_feed_loss_bypasses_the_cache_and_flushes_on_return() {
    let test = "rule_t_redis_feed_loss_bypasses_the_cache_and_flushes_on_return";
    let Some(url) = server("TD_TEST_REDIS_URL", test) else {
        return;
    };
    let prefix = prefix("feed-loss");
    let servers = feed_servers(&url, &prefix).await;
    let store = RedisStore::connect(&url).await.unwrap().prefix(&prefix);
    // Every subscriber's connection is cut (other tests' subscribers reconnect too).
    let cut = async {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let _: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("pubsub")
            .query_async(&mut connection)
            .await
            .unwrap();
    };
    let took = feed::feed_loss_never_serves_stale(&servers, &store, cut).await;
    let _ = writeln!(
        std::io::stderr(),
        "rule T, Redis feed lost: the stale entry went after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_t_redis_feed_heartbeat_notices_a_half_open_connection() {
    let test = "rule_t_redis_feed_heartbeat_notices_a_half_open_connection";
    let Some(url) = server("TD_TEST_REDIS_URL", test) else {
        return;
    };
    let (proxy, url) = FreezingProxy::in_front_of(&url).await.unwrap();
    let store = RedisStore::connect(&url)
        .await
        .unwrap()
        .prefix(&prefix("half_open"));
    let heartbeat = Heartbeat::every(Duration::from_millis(100));
    let feed = RedisFeed::start_with_heartbeat(&url, &store, heartbeat)
        .await
        .unwrap();
    let times = check_heartbeat_notices_half_open(&feed, &proxy, heartbeat).await;
    let _ = writeln!(std::io::stderr(), "rule T, Redis feed half-open: {times:?}");
}
