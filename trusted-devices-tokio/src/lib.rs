//! # trusted-devices-tokio
//!
//! What the axum and actix adapters of trusted-devices share on tokio, written once: rule
//! C's periodic cleanup as a task with a stop handle. The core stays free of any runtime;
//! each adapter only names how its runtime spawns ([`spawn_cleanup_with`]) and re-exports
//! the result as its own `spawn_cleanup`.
//!
//! ```
//! use std::time::Duration;
//! use trusted_devices_core::{KeyRing, SigningKey, TrustedDevices};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
//! let service = TrustedDevices::builder(KeyRing::new(key)).build();
//! let cleanup = trusted_devices_tokio::spawn_cleanup_with(
//!     service,
//!     Duration::from_secs(600),
//!     tokio::spawn,
//! );
//! cleanup.stop().await;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "testing")]
mod feed_checks;
#[cfg(feature = "testing")]
mod freezing_proxy;
#[cfg(feature = "testing")]
pub use feed_checks::{HalfOpenTimes, check_heartbeat_notices_half_open};
#[cfg(feature = "testing")]
pub use freezing_proxy::FreezingProxy;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use trusted_devices_core::{Sleep, TrustedDevices};

/// The cleanup loop as a future, for a runtime's spawn function.
pub type CleanupFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Rule C: runs [`TrustedDevices::run_cleanup`] every `interval` in a task that `spawn`
/// starts (`tokio::spawn`, or actix's `actix_web::rt::spawn`), until
/// [`CleanupTask::stop`]. Nothing expires in storage by itself: every application runs
/// this (or calls `cleanup` from its own scheduler). Dropping the handle leaves the task
/// running until the runtime ends.
#[must_use = "keep the handle to stop the cleanup at shutdown"]
pub fn spawn_cleanup_with(
    service: TrustedDevices,
    interval: Duration,
    spawn: impl FnOnce(CleanupFuture) -> JoinHandle<()>,
) -> CleanupTask {
    let (stop, stopped) = oneshot::channel();
    let task = spawn(Box::pin(async move {
        let timer = |duration| Box::pin(tokio::time::sleep(duration)) as Sleep;
        // A dropped handle is not a stop: only `stop()` sends.
        let stop = async move {
            if stopped.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        service.run_cleanup(interval, &timer, stop).await;
    }));
    CleanupTask { stop, task }
}

/// The handle of a periodic cleanup task.
#[derive(Debug)]
pub struct CleanupTask {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl CleanupTask {
    /// Stops the periodic cleanup: the batch in progress finishes, the run ends at its next
    /// rest instead of working through its backlog, then this returns.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
