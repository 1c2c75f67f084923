use std::time::Duration;

use trusted_devices_core::TrustedDevices;
pub use trusted_devices_tokio::CleanupTask;

/// Rule C on tokio: runs [`TrustedDevices::run_cleanup`] every `interval` in a task of its
/// own, until [`CleanupTask::stop`]. Nothing expires in storage by itself: every
/// application runs this (or calls `cleanup` from its own scheduler). Call it inside a
/// tokio runtime. Dropping the handle leaves the task running until the runtime ends.
#[must_use = "keep the handle to stop the cleanup at shutdown"]
pub fn spawn_cleanup(service: TrustedDevices, interval: Duration) -> CleanupTask {
    trusted_devices_tokio::spawn_cleanup_with(service, interval, tokio::spawn)
}
