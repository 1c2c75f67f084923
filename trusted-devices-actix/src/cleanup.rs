use std::time::Duration;

use tokio::sync::oneshot;
use trusted_devices_core::{Sleep, TrustedDevices};

/// Rule C on the actix runtime: runs [`TrustedDevices::run_cleanup`] every `interval` in a task of its
/// own, until [`CleanupTask::stop`]. Nothing expires in storage by itself: every
/// application runs this (or calls `cleanup` from its own scheduler). Call it inside the actix
/// system (`#[actix_web::main]`); the task runs on its thread. Dropping the handle leaves the task running until the runtime ends.
#[must_use = "keep the handle to stop the cleanup at shutdown"]
pub fn spawn_cleanup(service: TrustedDevices, interval: Duration) -> CleanupTask {
    let (stop, stopped) = oneshot::channel();
    let task = actix_web::rt::spawn(async move {
        let timer = |duration| Box::pin(tokio::time::sleep(duration)) as Sleep;
        // A dropped handle is not a stop: only `stop()` sends.
        let stop = async move {
            if stopped.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        service.run_cleanup(interval, &timer, stop).await;
    });
    CleanupTask { stop, task }
}

/// The handle of a [`spawn_cleanup`] task.
#[derive(Debug)]
pub struct CleanupTask {
    stop: oneshot::Sender<()>,
    task: actix_web::rt::task::JoinHandle<()>,
}

impl CleanupTask {
    /// Stops the periodic cleanup: the batch in progress finishes, the run ends at its next
    /// rest instead of working through its backlog, then this returns.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
