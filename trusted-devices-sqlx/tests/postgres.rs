//! The conformance suite on PostgreSQL, with four pools standing for four servers.
//!
//! The server comes from `TD_TEST_POSTGRES_URL` (the README's test command starts a
//! throwaway one). Without it these tests say loudly that they were skipped, and fail when
//! `CI` is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use trusted_devices_core::audit::AuditLog;
use trusted_devices_core::cache::Heartbeat;
use trusted_devices_core::testing::{Stores, feed, run_audit_log_suite, run_conformance};
use trusted_devices_core::{DeviceRepository, StorageError, TokenStore, TrustedDevices};
use trusted_devices_sqlx::{PostgresFeed, PostgresStore};
use trusted_devices_tokio::{FreezingProxy, check_heartbeat_notices_half_open};

const POOLS: usize = 4;

/// The server's URL, or `None` after a loud skip message (a failure under CI).
fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("TD_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{test}: TD_TEST_POSTGRES_URL is not set, and CI requires the PostgreSQL tests")
        }
        _ => {
            // Straight to the stderr handle: libtest captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED {test}: no PostgreSQL (set TD_TEST_POSTGRES_URL, or run scripts/test) ***"
            );
            None
        }
    }
}

/// A fresh database of its own on the test server, for a test whose rows must not meet the
/// conformance suite's: its cleanup checks delete every record that expires before their
/// far-future reference time, which is every record of a test using a present-day clock.
async fn own_database(url: &str, name: &str) -> String {
    let admin = PostgresStore::connect(url).await.unwrap();
    for statement in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        let statement = sqlx::AssertSqlSafe(statement);
        sqlx::query(statement).execute(admin.pool()).await.unwrap();
    }
    let (server, _) = url.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

async fn pools(url: &str) -> Vec<PostgresStore> {
    let mut handles = Vec::new();
    for _ in 0..POOLS {
        handles.push(PostgresStore::connect(url).await.unwrap());
    }
    handles
}

async fn migrate_all_at_once(handles: &[PostgresStore]) {
    let migrations: Vec<_> = handles
        .iter()
        .map(|store| {
            let store = store.clone();
            tokio::spawn(async move { store.migrate().await })
        })
        .collect();
    for migration in migrations {
        migration
            .await
            .unwrap()
            .expect("concurrent postgres migrate");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_with_four_pools_passes_the_conformance_suite() {
    let Some(url) = postgres_url("postgres_with_four_pools_passes_the_conformance_suite") else {
        return;
    };
    let handles = pools(&url).await;
    migrate_all_at_once(&handles).await;
    let devices: Vec<Arc<dyn DeviceRepository>> = handles
        .iter()
        .map(|s| Arc::new(s.clone()) as Arc<dyn DeviceRepository>)
        .collect();
    let tokens: Vec<Arc<dyn TokenStore>> = handles
        .iter()
        .map(|s| Arc::new(s.clone()) as Arc<dyn TokenStore>)
        .collect();
    run_conformance(Stores::new(devices, tokens)).await;
    let audit_logs: Vec<Arc<dyn AuditLog>> = handles
        .iter()
        .map(|s| Arc::new(s.clone()) as Arc<dyn AuditLog>)
        .collect();
    run_audit_log_suite(&audit_logs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_migrate_is_safe_when_servers_start_at_once() {
    let Some(url) = postgres_url("postgres_migrate_is_safe_when_servers_start_at_once") else {
        return;
    };
    let handles = pools(&url).await;
    migrate_all_at_once(&handles).await;
    migrate_all_at_once(&handles).await;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _trusted_devices_migrations")
        .fetch_one(handles[0].pool())
        .await
        .unwrap();
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(
        usize::try_from(applied).unwrap(),
        shipped,
        "each migration is recorded once"
    );
}

#[tokio::test]
async fn postgres_unreachable_server_is_storage_unavailable() {
    if postgres_url("postgres_unreachable_server_is_storage_unavailable").is_none() {
        return;
    }
    // Port 1 on loopback: nothing listens there. A short acquire timeout keeps the test fast.
    let error = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect("postgres://td@127.0.0.1:1/postgres")
        .await
        .map(PostgresStore::new)
        .map_err(trusted_devices_sqlx::storage_error)
        .unwrap_err();
    assert!(matches!(error, StorageError::Unavailable(_)), "{error:?}");
    assert!(
        std::error::Error::source(&error).is_some(),
        "the driver error is kept"
    );
}

#[tokio::test]
async fn postgres_lost_connection_is_storage_unavailable() {
    let Some(url) = postgres_url("postgres_lost_connection_is_storage_unavailable") else {
        return;
    };
    let store = PostgresStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.pool().close().await;
    let error = store
        .get(trusted_devices_core::DeviceId::from_uuid(uuid::Uuid::nil()))
        .await
        .unwrap_err();
    assert!(matches!(error, StorageError::Unavailable(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_postgres_forgets_seals_after_the_grace() {
    let Some(url) = postgres_url("refresh_tokens_postgres_forgets_seals_after_the_grace") else {
        return;
    };
    let url = own_database(&url, "td_seals").await;
    let store = PostgresStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let counts = |user: String| {
        let store = store.clone();
        async move {
            sqlx::query_as(
                "SELECT COUNT(sealed_successor), COUNT(rotated_at) FROM td_refresh_tokens \
                 WHERE user_id = $1",
            )
            .bind(user)
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };
    common::refresh_tokens_seals_are_forgotten_after_the_grace(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        counts,
    )
    .await;
}

/// Four servers (each its own pool and feed) on one database.
async fn feed_servers(url: &str) -> Vec<TrustedDevices> {
    feed::servers(POOLS, || async {
        let store = PostgresStore::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        let feed = Arc::new(PostgresFeed::start(&store).await.unwrap());
        let store = Arc::new(store);
        (store.clone() as _, store as _, feed as _)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule_t_postgres_feed_carries_a_revocation_to_every_server() {
    let Some(url) = postgres_url("rule_t_postgres_feed_carries_a_revocation_to_every_server")
    else {
        return;
    };
    let url = own_database(&url, "td_feed").await;
    let servers = feed_servers(&url).await;
    let delays = feed::revocation_reaches_every_server(&servers).await;
    let _ = writeln!(
        std::io::stderr(),
        "rule T, PostgreSQL feed: refused on each server after {delays:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule_t_postgres_feed_loss_bypasses_the_cache_and_flushes_on_return() {
    let Some(url) =
        postgres_url("rule_t_postgres_feed_loss_bypasses_the_cache_and_flushes_on_return")
    else {
        return;
    };
    let url = own_database(&url, "td_feed_loss").await;
    let servers = feed_servers(&url).await;
    let store = PostgresStore::connect(&url).await.unwrap();
    // Every listener's connection is cut.
    let cut = async {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        )
        .execute(store.pool())
        .await
        .unwrap();
    };
    let took = feed::feed_loss_never_serves_stale(&servers, &store, cut).await;
    let _ = writeln!(
        std::io::stderr(),
        "rule T, PostgreSQL feed lost: the stale entry went after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_t_postgres_feed_heartbeat_notices_a_half_open_connection() {
    let Some(url) = postgres_url("rule_t_postgres_feed_heartbeat_notices_a_half_open_connection")
    else {
        return;
    };
    let (proxy, url) = FreezingProxy::in_front_of(&url).await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    let heartbeat = Heartbeat::every(Duration::from_millis(100));
    let feed = PostgresFeed::start_with_heartbeat(&store, heartbeat)
        .await
        .unwrap();
    let times = check_heartbeat_notices_half_open(&feed, &proxy, heartbeat).await;
    let _ = writeln!(
        std::io::stderr(),
        "rule T, PostgreSQL feed half-open: {times:?}"
    );
}
