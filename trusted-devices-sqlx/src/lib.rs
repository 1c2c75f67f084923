//! # trusted-devices-sqlx
//!
//! SQLite and PostgreSQL implementations of the trusted-devices
//! [`DeviceRepository`](trusted_devices_core::DeviceRepository) and
//! [`TokenStore`](trusted_devices_core::TokenStore), each rule one transaction or one
//! conditional statement, so they hold with many servers on one database.
//!
//! - [`PostgresStore`] (feature `postgres`): logins of one user are serialized by a
//!   transaction-scoped advisory lock keyed by the user; refresh rotation is a single
//!   `UPDATE … RETURNING` feeding the successor's `INSERT`; cleanup deletes batches picked
//!   with `FOR UPDATE SKIP LOCKED`, so several cleaners never wait on each other.
//! - [`SqliteStore`] (feature `sqlite`): every multi-step rule runs in a `BEGIN IMMEDIATE`
//!   transaction, which takes SQLite's write lock up front; files use WAL and a busy timeout.
//!
//! Both are one generic store, [`SqlStore`], over a [`Dialect`]: the statements are data
//! written once (`sql.rs`: the SQL runs unchanged on both databases), the trait
//! implementations are ordinary generic Rust (`store.rs`, `tokens.rs`, `audit_log.rs`), and
//! each database's dialect holds only what it does its own way: how instants are stored,
//! how a login locks its user, refresh rotation and token revocation, and `SKIP LOCKED`.
//! The driver's bounds are said once, as [`Binds`], [`Reads`] and [`Runs`].
//!
//! Each store implements both traits, and rule H's
//! [`AuditLog`](trusted_devices_core::audit::AuditLog): one store serves devices, tokens and
//! the history, or any of them can be paired with another backend. Times are always the application's clock passed in, never the
//! database's `now()`. Driver errors become [`StorageError`]s that keep the driver error as
//! their source; a connection that cannot be made or is lost is `Unavailable`.
//!
//! Migrations are embedded (and shipped as plain SQL under `migrations/`); `migrate()` may be
//! called by several servers starting at once. They are recorded in their own table,
//! `_trusted_devices_migrations`, so they never mix with the application's.
//!
//! ```no_run
//! use std::sync::Arc;
//! use trusted_devices_core::{KeyRing, SigningKey, TrustedDevices};
//! use trusted_devices_sqlx::SqliteStore;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(SqliteStore::connect("sqlite:devices.db").await?);
//! store.migrate().await?;
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
//! let service = TrustedDevices::builder(KeyRing::new(key))
//!     .devices(store.clone())
//!     .tokens(store)
//!     .build();
//! # Ok(()) }
//! ```
//!
//! [`StorageError`]: trusted_devices_core::StorageError

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod audit_log;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod dialect;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod driver;
mod error;
mod eviction;
#[cfg(feature = "postgres")]
mod postgres;
mod row;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod store;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod tokens;

#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub use dialect::Dialect;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub use driver::{Backend, Binds, Reads, Runs};
pub use error::storage_error;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresDialect, PostgresFeed, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteDialect, SqliteStore};
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub use store::SqlStore;

/// The driver, re-exported so that applications use the same version.
pub use sqlx;

/// The bound on waiting for a pooled connection (and, on PostgreSQL, on each statement)
/// when none is given [1 s].
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The table that records which of this crate's migrations have run.
pub const MIGRATIONS_TABLE: &str = "_trusted_devices_migrations";
