//! Driver errors into the core's storage error, keeping the source.

use trusted_devices_core::StorageError;

/// Maps a sqlx error: connection failures (I/O, TLS, pool timeouts, a closed pool, the server
/// shutting down, SQLite still busy after its timeout) are `Unavailable`, anything else
/// `Backend`. The sqlx error is kept as the source either way.
#[must_use]
pub fn storage_error(error: sqlx::Error) -> StorageError {
    if is_unavailable(&error) {
        StorageError::unavailable(error)
    } else {
        StorageError::backend(error)
    }
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            // PostgreSQL: class 08 connection exceptions, 57P0x shutdowns, 53 resources.
            code.starts_with("08")
                || code.starts_with("57P0")
                || code.starts_with("53")
                // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), with extended codes.
                || matches!(sqlite_primary_code(&code), Some(5 | 6))
        }),
        _ => false,
    }
}

fn sqlite_primary_code(code: &str) -> Option<i64> {
    code.parse::<i64>().ok().map(|extended| extended & 0xff)
}

/// A stored value that does not decode.
pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> StorageError {
    StorageError::corrupt(format!("{what}: {error}"))
}
