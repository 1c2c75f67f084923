//! # trusted-devices-redis
//!
//! **Placeholder.** This crate will hold the Redis token store and device repository (issue 5) of trusted-devices. Until its issue
//! lands it only re-exports the core, so that the workspace builds as a whole.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use trusted_devices_core as core;
