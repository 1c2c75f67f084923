use std::time::Duration;

use trusted_devices_core::TrustedDevices;
pub use trusted_devices_tokio::CleanupTask;

/// Rule C on the actix runtime: runs [`TrustedDevices::run_cleanup`] every `interval` in a
/// task of its own on the current actix thread, until [`CleanupTask::stop`]. Nothing expires
/// in storage by itself: every application runs this (or calls `cleanup` from its own
/// scheduler). Call it inside the actix system (`#[actix_web::main]`). Dropping the handle
/// leaves the task running until the runtime ends.
#[must_use = "keep the handle to stop the cleanup at shutdown"]
pub fn spawn_cleanup(service: TrustedDevices, interval: Duration) -> CleanupTask {
    trusted_devices_tokio::spawn_cleanup_with(service, interval, actix_web::rt::spawn)
}
