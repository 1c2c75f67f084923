//! The conformance suite on SQLite, in memory and on a file shared by four pools.
#![allow(
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use trusted_devices_core::audit::AuditLog;
use trusted_devices_core::testing::{Stores, run_audit_log_suite, run_conformance};
use trusted_devices_core::{DeviceRepository, StorageError, TokenStore};
use trusted_devices_sqlx::SqliteStore;

fn stores(handles: &[SqliteStore]) -> Stores {
    let devices: Vec<Arc<dyn DeviceRepository>> = handles
        .iter()
        .map(|s| Arc::new(s.clone()) as Arc<dyn DeviceRepository>)
        .collect();
    let tokens: Vec<Arc<dyn TokenStore>> = handles
        .iter()
        .map(|s| Arc::new(s.clone()) as Arc<dyn TokenStore>)
        .collect();
    Stores::new(devices, tokens)
}

fn temp_db() -> (tempdir::Dir, String) {
    let dir = tempdir::Dir::new();
    let url = format!("sqlite:{}", dir.path().join("devices.db").display());
    (dir, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_in_memory_passes_the_conformance_suite() {
    let store = SqliteStore::in_memory().await.unwrap();
    store.migrate().await.unwrap();
    run_conformance(stores(std::slice::from_ref(&store))).await;
    run_audit_log_suite(&audit_logs(&[store])).await;
}

/// The handles as rule H audit logs (several pools stand for several servers).
fn audit_logs(handles: &[SqliteStore]) -> Vec<Arc<dyn AuditLog>> {
    handles
        .iter()
        .map(|store| Arc::new(store.clone()) as Arc<dyn AuditLog>)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_with_four_pools_passes_the_conformance_suite() {
    let (_dir, url) = temp_db();
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(SqliteStore::connect(&url).await.unwrap());
    }
    // Four servers starting at once all migrate.
    let migrations: Vec<_> = handles
        .iter()
        .map(|store| {
            let store = store.clone();
            tokio::spawn(async move { store.migrate().await })
        })
        .collect();
    for migration in migrations {
        migration.await.unwrap().expect("concurrent sqlite migrate");
    }
    run_conformance(stores(&handles)).await;
    run_audit_log_suite(&audit_logs(&handles)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_migrate_is_safe_when_eight_servers_start_at_once() {
    for _round in 0..10 {
        let (_dir, url) = temp_db();
        let mut handles = Vec::new();
        for _ in 0..8 {
            handles.push(SqliteStore::connect(&url).await.unwrap());
        }
        let migrations: Vec<_> = handles
            .into_iter()
            .map(|store| tokio::spawn(async move { store.migrate().await }))
            .collect();
        for migration in migrations {
            migration.await.unwrap().expect("concurrent sqlite migrate");
        }
    }
}

#[tokio::test]
async fn sqlite_migrate_is_idempotent_and_uses_its_own_table() {
    let store = SqliteStore::in_memory().await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert!(
        tables.contains(&"_trusted_devices_migrations".to_owned()),
        "{tables:?}"
    );
    assert!(
        !tables.contains(&"_sqlx_migrations".to_owned()),
        "{tables:?}"
    );
}

#[tokio::test]
async fn sqlite_unreadable_file_is_a_storage_error_not_a_panic() {
    let (dir, _) = temp_db();
    let url = format!("sqlite:{}", dir.path().join("missing-dir/x.db").display());
    let error = SqliteStore::connect(&url).await.unwrap_err();
    assert!(
        std::error::Error::source(&error).is_some(),
        "the driver error is kept: {error:?}"
    );
    assert!(matches!(
        error,
        StorageError::Unavailable(_) | StorageError::Backend(_)
    ));
}

/// A temporary folder removed on drop, without another dependency.
mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Self {
            let nonce: u64 = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            let path =
                std::env::temp_dir().join(format!("td-sqlite-{}-{nonce}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn sqlite_seal_counts(store: &SqliteStore, user: String) -> (i64, i64) {
    sqlx::query_as(
        "SELECT COUNT(sealed_successor), COUNT(rotated_at) FROM td_refresh_tokens \
         WHERE user_id = ?1",
    )
    .bind(user)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn refresh_tokens_sqlite_forgets_seals_after_the_grace() {
    let (_dir, url) = temp_db();
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    common::refresh_tokens_seals_are_forgotten_after_the_grace(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        |user| sqlite_seal_counts(&store, user),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_sqlite_answers_forged_tokens_without_the_write_lock() {
    use trusted_devices_core::{DeviceId, OsRandom, RefreshToken, RotateOutcome, Rotation};
    let (_dir, url) = temp_db();
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    // Another server holds SQLite's only write lock for the whole check.
    let mut holder = store.pool().begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("DELETE FROM td_refresh_tokens WHERE 0")
        .execute(&mut *holder)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let device = DeviceId::generate(now, &OsRandom);
    let (forged, successor) = (
        RefreshToken::generate(device, &OsRandom),
        RefreshToken::generate(device, &OsRandom),
    );
    let rotation = Rotation {
        presented: forged.hash(),
        device_id: device,
        successor: trusted_devices_core::RefreshRecord {
            hash: successor.hash(),
            device_id: device,
            user_id: trusted_devices_core::testing::unique_user("forged"),
            issued_at: now,
            expires_at: now + chrono::TimeDelta::days(1),
            rotated: None,
        },
        sealed_successor: forged.seal(&successor),
        now,
        grace: chrono::TimeDelta::seconds(10),
    };
    // Taking the lock would wait out the busy timeout and fail as unavailable.
    let outcome = store.rotate(rotation).await;
    assert!(
        matches!(outcome, Ok(RotateOutcome::NotFound)),
        "a forged token is answered from a read: {outcome:?}"
    );
    holder.rollback().await.unwrap();
}
