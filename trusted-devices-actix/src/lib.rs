//! # trusted-devices-actix
//!
//! **Placeholder.** This crate will hold the actix-web web adapter (issue 6) of trusted-devices. Until its issue
//! lands it only re-exports the core, so that the workspace builds as a whole.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use trusted_devices_core as core;
