//! What can go wrong opening a database.

use std::path::PathBuf;

/// A database file could not be used; the one loaded before (if any) stays in use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GeoipError {
    /// The file could not be read.
    #[error("cannot read the geolocation database {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid MaxMind DB database (corrupt, truncated, another format).
    #[error("{path} is not a usable MaxMind DB database: {source}")]
    Database {
        /// The file.
        path: PathBuf,
        /// What the reader found wrong.
        #[source]
        source: maxminddb::MaxMindDbError,
    },
}
