//! list, login and cleanup when the table holds 1,000,000 devices of 100,000 users, on
//! SQLite (a WAL file) and PostgreSQL (from TD_TEST_POSTGRES_URL, in a database of its own).
//! Prints the median and p99 of each operation. Run with `cargo bench --bench million`.
//!
//! Criterion gives no p99, so this harness times each call with `Instant` and sorts.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::RngExt;
use trusted_devices_core::{
    DeviceInfo, DeviceRepository, KeyRing, SigningKey, Sleep, TokenStore, TrustedDevices, UserId,
};
use trusted_devices_sqlx::sqlx::AssertSqlSafe;
use trusted_devices_sqlx::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use trusted_devices_sqlx::{PostgresStore, SqliteStore};

const DEVICES: u32 = 1_000_000;
const USERS: u32 = 100_000;
/// Devices seeded already expired, for the cleanup measurement.
const EXPIRED: u32 = 20_000;
/// Idle samples: p99 of a thousand is the tenth worst, which moved by 2x between runs.
const SAMPLES: usize = 10_000;
const CLEANUP_BATCH: u32 = 500;
/// The batch of the cleanup that runs beside logins: `run_cleanup`'s own.
const BACKGROUND_BATCH: u32 = trusted_devices_core::CLEANUP_BATCH.get();

const SEED_POSTGRES: &str = "INSERT INTO td_devices (id, user_id, name, user_agent, ip, last_ip, \
     location, created_at, last_seen_at, can_delete_other_devices, can_update_other_devices, \
     metadata, idle_expires_at, session_expires_at, deadline) \
     SELECT gen_random_uuid(), 'user-' || (g % $2), 'Firefox on Linux', 'Mozilla/5.0 (X11; Linux x86_64)', \
       '203.0.113.7', '203.0.113.7', NULL, $1 - make_interval(secs => g), $1 - make_interval(secs => g), \
       true, true, '{}'::jsonb, e, NULL, e \
     FROM generate_series(0, $4 - 1) AS g, \
       LATERAL (SELECT CASE WHEN g < $3 THEN $1 - interval '1 day' \
                            ELSE $1 + interval '30 days' END AS e) AS expiry";

const SEED_SQLITE: &str = "WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < ?4 - 1) \
     INSERT INTO td_devices (id, user_id, name, user_agent, ip, last_ip, location, created_at, \
       last_seen_at, can_delete_other_devices, can_update_other_devices, metadata, \
       idle_expires_at, session_expires_at, deadline) \
     SELECT randomblob(16), 'user-' || (n % ?2), 'Firefox on Linux', 'Mozilla/5.0 (X11; Linux x86_64)', \
       '203.0.113.7', '203.0.113.7', NULL, ?1 - n * 1000000, ?1 - n * 1000000, 1, 1, '{}', \
       e, NULL, e \
     FROM (SELECT n, CASE WHEN n < ?3 THEN ?1 - 86400000000 ELSE ?1 + 2592000000000 END AS e \
           FROM g)";

struct Stats {
    median: Duration,
    p99: Duration,
    samples: usize,
}

fn stats(mut times: Vec<Duration>) -> Stats {
    times.sort_unstable();
    let at = |q: f64| {
        times[((times.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(times.len() - 1)]
    };
    Stats {
        median: at(0.5),
        p99: at(0.99),
        samples: times.len(),
    }
}

fn report(backend: &str, operation: &str, s: &Stats) {
    println!(
        "| {backend} | {operation} | {:.3} ms | {:.3} ms | {} |",
        s.median.as_secs_f64() * 1e3,
        s.p99.as_secs_f64() * 1e3,
        s.samples
    );
}

async fn measure(
    backend: &str,
    store: Arc<dyn DeviceRepository>,
    tokens: Arc<dyn TokenStore>,
    now: DateTime<Utc>,
) -> IdleLogin {
    let key = SigningKey::new("k1", b"0123456789abcdef0123456789abcdef").unwrap();
    let service = TrustedDevices::builder(KeyRing::new(key))
        .devices(store.clone())
        .tokens(tokens)
        .build();
    let mut rng = rand::rng();

    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let user = UserId::new(format!("user-{}", rng.random_range(0..USERS))).unwrap();
        let start = Instant::now();
        let listed = store.list(&user).await.unwrap();
        times.push(start.elapsed());
        assert!(!listed.is_empty());
    }
    report(backend, "list (one user, ~10 devices)", &stats(times));

    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let user = UserId::new(format!("user-{}", rng.random_range(0..USERS))).unwrap();
        let start = Instant::now();
        service
            .login(user, DeviceInfo::new().user_agent("bench"))
            .await
            .unwrap();
        times.push(start.elapsed());
    }
    let idle_login = stats(times);
    report(backend, "login (device + token)", &idle_login);

    let batch = NonZeroU32::new(CLEANUP_BATCH).unwrap();
    let mut times = Vec::new();
    loop {
        let start = Instant::now();
        let removed = store.delete_expired(now, batch).await.unwrap();
        times.push(start.elapsed());
        if removed.len() < CLEANUP_BATCH as usize {
            break;
        }
    }
    report(
        backend,
        &format!("cleanup (one batch of {CLEANUP_BATCH})"),
        &stats(times),
    );
    IdleLogin {
        service,
        p99: idle_login.p99,
    }
}

/// The service and its idle login p99, for the login-under-cleanup measurement.
struct IdleLogin {
    service: TrustedDevices,
    p99: Duration,
}

/// Logins, one after another, while `cleanup_gently` deletes `DEVICES` expired devices in
/// batches of `BACKGROUND_BATCH` beside them; reports their p99 against the idle login p99.
async fn login_during_cleanup(backend: &str, idle: IdleLogin, now: DateTime<Utc>) {
    let service = idle.service.clone();
    let cleaner = tokio::spawn(async move {
        let batch = NonZeroU32::new(BACKGROUND_BATCH).unwrap();
        let timer = |duration| Box::pin(tokio::time::sleep(duration)) as Sleep;
        let started = Instant::now();
        let report = service.cleanup_gently(now, batch, &timer).await.unwrap();
        (report.devices, started.elapsed())
    });
    let mut rng = rand::rng();
    let mut times = Vec::new();
    while !cleaner.is_finished() {
        let user = UserId::new(format!("user-{}", rng.random_range(0..USERS))).unwrap();
        let start = Instant::now();
        idle.service
            .login(user, DeviceInfo::new().user_agent("bench"))
            .await
            .unwrap();
        times.push(start.elapsed());
    }
    let (removed, took) = cleaner.await.unwrap();
    let during = stats(times);
    report(
        backend,
        &format!(
            "login while cleanup_gently deletes {removed} devices, batches of {BACKGROUND_BATCH} ({took:.1?})"
        ),
        &during,
    );
    eprintln!(
        "{backend}: login p99 during cleanup / idle = {:.1}",
        during.p99.as_secs_f64() / idle.p99.as_secs_f64()
    );
}

async fn sqlite(now: DateTime<Utc>) {
    let path = std::env::temp_dir().join(format!("td-million-{}.db", std::process::id()));
    let store = SqliteStore::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let start = Instant::now();
    seed_sqlite(&store, now, EXPIRED).await;
    eprintln!(
        "sqlite: seeded {DEVICES} devices in {:.1?}",
        start.elapsed()
    );
    let store = Arc::new(store);
    let idle = measure("sqlite", store.clone(), store.clone(), now).await;
    seed_sqlite(&store, now, DEVICES).await;
    login_during_cleanup("sqlite", idle, now).await;
    // The write-ahead log of two million inserts and a million deletes is gigabytes.
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// Seeds `DEVICES` devices, the first `expired` of them already expired.
async fn seed_sqlite(store: &SqliteStore, now: DateTime<Utc>, expired: u32) {
    trusted_devices_sqlx::sqlx::query(SEED_SQLITE)
        .bind(now.timestamp_micros())
        .bind(i64::from(USERS))
        .bind(i64::from(expired))
        .bind(i64::from(DEVICES))
        .execute(store.pool())
        .await
        .unwrap();
    trusted_devices_sqlx::sqlx::query("ANALYZE")
        .execute(store.pool())
        .await
        .unwrap();
}

async fn postgres(url: &str, now: DateTime<Utc>) {
    let admin = PostgresStore::connect(url).await.unwrap();
    let database = format!("td_million_{}", std::process::id());
    trusted_devices_sqlx::sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(admin.pool())
        .await
        .unwrap();
    let options = PgConnectOptions::from_str(url).unwrap().database(&database);
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect_with(options)
        .await
        .unwrap();
    let store = PostgresStore::new(pool);
    store.migrate().await.unwrap();
    let start = Instant::now();
    seed_postgres(&store, now, EXPIRED).await;
    eprintln!(
        "postgres: seeded {DEVICES} devices in {:.1?}",
        start.elapsed()
    );
    let store = Arc::new(store);
    let idle = measure("postgres", store.clone(), store.clone(), now).await;
    seed_postgres(&store, now, DEVICES).await;
    login_during_cleanup("postgres", idle, now).await;
    store.pool().close().await;
    let drop = AssertSqlSafe(format!("DROP DATABASE {database}"));
    trusted_devices_sqlx::sqlx::query(drop)
        .execute(admin.pool())
        .await
        .unwrap();
}

/// Seeds `DEVICES` devices, the first `expired` of them already expired.
async fn seed_postgres(store: &PostgresStore, now: DateTime<Utc>, expired: u32) {
    trusted_devices_sqlx::sqlx::query(SEED_POSTGRES)
        .bind(now)
        .bind(i64::from(USERS))
        .bind(i64::from(expired))
        .bind(i64::from(DEVICES))
        .execute(store.pool())
        .await
        .unwrap();
    trusted_devices_sqlx::sqlx::query("ANALYZE")
        .execute(store.pool())
        .await
        .unwrap();
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing to run.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let now = Utc::now();
    println!("| backend | operation | median | p99 | samples |\n|---|---|---:|---:|---:|");
    rt.block_on(sqlite(now));
    match std::env::var("TD_TEST_POSTGRES_URL") {
        Ok(url) => rt.block_on(postgres(&url, now)),
        Err(_) => eprintln!("TD_TEST_POSTGRES_URL is not set: PostgreSQL is not measured"),
    }
}
