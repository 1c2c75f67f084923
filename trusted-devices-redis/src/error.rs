//! Driver errors into the core's storage error, keeping the source.

use trusted_devices_core::StorageError;

/// Maps a redis error: connection failures (refused, dropped, timed out, I/O) are
/// `Unavailable`, anything else `Backend`. The redis error is kept as the source.
#[must_use]
pub fn storage_error(error: redis::RedisError) -> StorageError {
    if error.is_io_error()
        || error.is_connection_refusal()
        || error.is_connection_dropped()
        || error.is_timeout()
    {
        StorageError::unavailable(error)
    } else {
        StorageError::backend(error)
    }
}
