//! Test support. With feature `fixtures` (no runtime): [`sample_device`] and
//! [`unique_user`]; for a device of your own, `Policy::new_device`. With feature `testing`
//! (which adds tokio): the public conformance suite, every storage rule checked against
//! any `DeviceRepository` and `TokenStore`, yours included, in one call.
//!
//! ```no_run
//! use std::sync::Arc;
//! use trusted_devices_core::memory::{MemoryDeviceRepository, MemoryTokenStore};
//! use trusted_devices_core::testing::{Stores, run_conformance};
//!
//! #[tokio::test(flavor = "multi_thread")]
//! async fn my_store_conforms() {
//!     // Several handles on the same storage stand for several servers; memory stores can
//!     // only share one.
//!     let devices = Arc::new(MemoryDeviceRepository::new());
//!     let tokens = Arc::new(MemoryTokenStore::new());
//!     run_conformance(Stores::new(vec![devices], vec![tokens])).await;
//! }
//! ```
//!
//! Each check panics with the rule it broke, like an assertion. Checks use fresh random user
//! ids and times around the year 2100 and 2200, so they may share a database with earlier
//! runs, and their counts only include what they created themselves. **Give the suite a
//! database of its own**, though: cleanup takes no user, so the expiry checks delete every
//! record of any user that expires before their reference time (about the year 2100),
//! which is every present-day record. The
//! concurrency checks run 50 tokio tasks spread over every handle given, so the test must
//! run inside a tokio runtime (multi-threaded for real parallelism).

// The suite reports failures the way tests do: by panicking with the rule that broke.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(feature = "testing")]
pub mod audit_log;
mod cleanup_task;
#[cfg(feature = "testing")]
pub mod device_repository;
#[cfg(feature = "testing")]
pub mod feed;
mod fixtures;
#[cfg(feature = "testing")]
pub mod proof_replay;
#[cfg(feature = "testing")]
pub mod rate_limiter;
pub mod rule_l_cases;
#[cfg(feature = "testing")]
pub mod service;
#[cfg(feature = "testing")]
pub mod token_store;

#[cfg(feature = "testing")]
use std::sync::Arc;

#[cfg(feature = "testing")]
use crate::store::{DeviceRepository, TokenStore};

#[cfg(feature = "testing")]
pub use audit_log::run_audit_log_suite;
pub use cleanup_task::periodic_cleanup_runs_and_stops;
#[cfg(feature = "testing")]
pub use device_repository::run_device_repository_suite;
pub use fixtures::{sample_device, unique_user};
#[cfg(feature = "testing")]
pub use proof_replay::{run_proof_replay_suite, section_9_a_key_beyond_its_share_is_over_share};
#[cfg(feature = "testing")]
pub use rate_limiter::run_rate_limiter_suite;
pub use rule_l_cases::{RULE_L_CASES, RuleLCase};
#[cfg(feature = "testing")]
pub use service::run_service_suite;
#[cfg(feature = "testing")]
pub use token_store::run_token_store_suite;

/// What a failed equality check of the suites shows: on the left what the store
/// answered, on the right what the rule requires.
#[cfg(feature = "testing")]
pub(crate) const STORE_VS_RULE: &str =
    "left: what the store answered; right: what the rule requires";

/// How many concurrent tasks the concurrency checks run.
#[cfg(feature = "testing")]
pub const CONCURRENT_TASKS: usize = 50;

/// The stores under test: one or more handles (pools, clients) on the same backing storage.
#[cfg(feature = "testing")]
#[derive(Clone)]
pub struct Stores {
    /// Handles on one device storage.
    pub devices: Vec<Arc<dyn DeviceRepository>>,
    /// Handles on one token storage.
    pub tokens: Vec<Arc<dyn TokenStore>>,
}

#[cfg(feature = "testing")]
impl Stores {
    /// Stores from their handles; an empty list is filled with nothing and fails the suite.
    #[must_use]
    pub fn new(devices: Vec<Arc<dyn DeviceRepository>>, tokens: Vec<Arc<dyn TokenStore>>) -> Self {
        Self { devices, tokens }
    }
}

/// Runs every check: the device repository, the token store, and the service's rules over
/// both together.
#[cfg(feature = "testing")]
pub async fn run_conformance(stores: Stores) {
    run_device_repository_suite(&stores.devices).await;
    run_token_store_suite(&stores.tokens).await;
    run_service_suite(&stores).await;
}

/// The handle for task `index`, round-robin.
#[cfg(feature = "testing")]
fn pick<T: ?Sized>(handles: &[Arc<T>], index: usize) -> Arc<T> {
    assert!(
        !handles.is_empty(),
        "conformance: no store handle was given"
    );
    Arc::clone(&handles[index % handles.len()])
}

/// Awaits spawned tasks; a panicking task fails the check with its panic.
#[cfg(feature = "testing")]
async fn join_all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(result) => results.push(result),
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
    results
}
