//! What every revocation feed through a server keeps and does, written once: whether it is
//! live, its listeners, and listening again after a loss.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::cache::feed::{FeedListener, Listeners, decode_changes};
use crate::cache::heartbeat::HEARTBEAT_MESSAGE;
use crate::geolocation::Timer;

/// The state of a feed implementation: live or not, and who hears its messages.
#[derive(Debug, Default)]
pub struct FeedState {
    live: AtomicBool,
    listeners: Listeners,
}

impl FeedState {
    /// A feed that is not live until [`connected`](Self::connected).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether changes are being received now.
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// Adds a receiver of every delivered change.
    pub fn subscribe(&self, listener: Arc<dyn FeedListener>) {
        self.listeners.add(listener);
    }

    /// Delivers one message of [`encode_changes`](crate::cache::encode_changes); a
    /// [heartbeat](crate::cache::HEARTBEAT_MESSAGE) changes nothing.
    pub fn deliver(&self, message: &str) {
        if message != HEARTBEAT_MESSAGE {
            self.listeners.changed(&decode_changes(message));
        }
    }

    /// The connection is gone: caches stop serving at once and drop what they hold.
    pub fn lost(&self) {
        self.live.store(false, Ordering::SeqCst);
        self.listeners.flush();
    }

    /// Listening (again): what was sent while it was not is lost, so caches drop what they
    /// hold, then serve again.
    pub fn connected(&self) {
        self.listeners.flush();
        self.live.store(true, Ordering::SeqCst);
    }
}

/// Calls `attempt` until it succeeds: at once, then after 20 ms, twice as long each time,
/// and at most `most` between attempts. For a feed listening again after a loss.
pub async fn retry_with_backoff<T, E, F, Fut>(
    mut attempt: F,
    timer: &dyn Timer,
    most: Duration,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut backoff = Duration::from_millis(20);
    loop {
        if let Ok(done) = attempt().await {
            return done;
        }
        timer.sleep(backoff).await;
        backoff = (backoff * 2).min(most);
    }
}
