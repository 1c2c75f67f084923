//! The feed's heartbeat (SPEC §4 T): a connection that is half-open (the peer or a middlebox
//! gone without a reset) looks alive to its socket while nothing arrives. So every feed
//! publishes a heartbeat message on its channel at an interval, and a listener that hears
//! nothing, heartbeat or change, for longer than its timeout counts the connection as lost:
//! caches are bypassed and it listens again.

use std::future::Future;
use std::time::Duration;

use crate::geolocation::Timer;

/// The message a feed publishes as its heartbeat; it names no device.
pub const HEARTBEAT_MESSAGE: &str = "heartbeat";

/// How often a feed beats and how long its listener waits for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    interval: Duration,
    timeout: Duration,
}

impl Heartbeat {
    /// A beat every second; lost after three seconds without a message.
    pub const DEFAULT: Self = Self {
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(3),
    };

    /// A beat every `interval`; lost after three intervals without a message, so that one
    /// late beat is not a loss.
    #[must_use]
    pub fn every(interval: Duration) -> Self {
        Self {
            interval,
            timeout: interval.saturating_mul(3),
        }
    }

    /// Time between two beats.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The longest silence a live connection may have.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Calls `publish` (the heartbeat) every `interval`, forever. A failed beat is not retried
/// sooner: missing beats are what listeners notice.
pub async fn beat_forever<E, F, Fut>(mut publish: F, timer: &dyn Timer, interval: Duration)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    loop {
        // Ignored on purpose: the listeners, on every server, judge the feed by what arrives.
        let _ = publish().await;
        timer.sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_is_three_missed_beats_so_one_late_beat_is_not_one() {
        let heartbeat = Heartbeat::every(Duration::from_millis(100));
        assert_eq!(heartbeat.interval(), Duration::from_millis(100));
        assert_eq!(heartbeat.timeout(), Duration::from_millis(300));
        assert_eq!(
            Heartbeat::default(),
            Heartbeat::every(Duration::from_secs(1))
        );
    }

    #[test]
    fn the_heartbeat_names_no_device() {
        assert!(crate::cache::decode_changes(HEARTBEAT_MESSAGE).is_empty());
    }
}
