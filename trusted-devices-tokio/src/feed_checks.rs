//! A check any revocation feed through a server passes (SPEC §4 T): a connection that goes
//! silent without closing is noticed by the heartbeat, and the feed listens again once the
//! path is back.

use std::time::{Duration, Instant};

use trusted_devices_core::cache::{Heartbeat, RevocationFeed};

use crate::FreezingProxy;

/// How long the check waits for the feed to go down, then to come back.
const PATIENCE: Duration = Duration::from_secs(5);

/// What the check saw: how long after the freeze the feed stopped being live, and how long
/// after the thaw it was live again.
#[derive(Debug, Clone, Copy)]
pub struct HalfOpenTimes {
    /// From the freeze to not live.
    pub noticed: Duration,
    /// From the thaw to live again.
    pub back: Duration,
}

/// Checks `feed`, started with `heartbeat` through `proxy`: live while quiet; not live once
/// the proxy freezes (nothing passes, nothing closes); live again after the thaw. Panics
/// with the rule's words when the feed fails a step.
pub async fn check_heartbeat_notices_half_open(
    feed: &dyn RevocationFeed,
    proxy: &FreezingProxy,
    heartbeat: Heartbeat,
) -> HalfOpenTimes {
    assert!(feed.is_live(), "rule T: a feed just started is live");
    tokio::time::sleep(heartbeat.timeout() * 2).await;
    assert!(
        feed.is_live(),
        "rule T: a healthy feed with nothing to deliver stayed live for two heartbeat \
         timeouts? It went down: its heartbeat does not arrive"
    );
    proxy.freeze();
    let noticed = until_live(feed, false).await;
    assert!(
        noticed.is_some(),
        "rule T: the feed's connection went silent without closing, and {PATIENCE:?} later \
         it still counted as live (a missed heartbeat must count as a lost connection)"
    );
    proxy.thaw();
    let back = until_live(feed, true).await;
    assert!(
        back.is_some(),
        "rule T: the path was back, and {PATIENCE:?} later the feed was still not listening"
    );
    HalfOpenTimes {
        noticed: noticed.unwrap_or_default(),
        back: back.unwrap_or_default(),
    }
}

async fn until_live(feed: &dyn RevocationFeed, live: bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if feed.is_live() == live {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}
