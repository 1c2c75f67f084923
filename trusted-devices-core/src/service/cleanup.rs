//! Rule C: expired devices and tokens are deleted in batches, never silently elsewhere.

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::event_log::TARGET;
use crate::events::RevokeReason;
use crate::geolocation::Timer;
use crate::service::TrustedDevices;

/// The batch of each storage call a periodic cleanup makes: small enough that no call
/// holds a lock for long (SQLite's one writer waits for it), large enough that a backlog of
/// a million clears in minutes.
pub const CLEANUP_BATCH: NonZeroU32 = match NonZeroU32::new(100) {
    Some(batch) => batch,
    None => NonZeroU32::MIN,
};

/// How long one storage call of [`cleanup_gently`](TrustedDevices::cleanup_gently) should
/// take: it halves its batch after a call that took longer, and grows it again (up to the
/// batch it was given) after calls well under. A request waiting behind a batch (SQLite has
/// one writer) then waits about this long, whatever a row costs on that store.
pub const CLEANUP_BATCH_TIME: Duration = Duration::from_millis(1);

/// What [`TrustedDevices::cleanup`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Devices whose idle or absolute deadline had passed.
    pub devices: u64,
    /// Refresh-token records past their `expires_at`.
    pub tokens: u64,
    /// Sealed successors forgotten because their reuse grace had passed.
    pub seals: u64,
}

impl TrustedDevices {
    /// Rule C: deletes every device whose deadline is at or before `now`, `batch` at a time
    /// so that no storage operation grows with the table, then forgets the sealed
    /// successors past the reuse grace, then deletes the expired token records.
    /// Emits `DeviceRevoked { reason: Expired }` for each device.
    ///
    /// Nothing calls this for you, and nothing expires in storage by itself: run
    /// [`run_cleanup`](Self::run_cleanup), or the web adapter's `spawn_cleanup`, or call
    /// this from your own scheduler.
    pub async fn cleanup(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<CleanupReport, Error> {
        self.cleanup_with(now, batch, None).await
    }

    /// [`cleanup`](Self::cleanup), resting after each full batch as long as the batch took
    /// (measured by the service's clock, slept by `timer`), and keeping each batch near
    /// [`CLEANUP_BATCH_TIME`] (never above `batch`), so that requests beside it keep their
    /// latency; the cleanup takes about twice as long. `BENCHMARKS.md` gives login p99
    /// while a million expired devices are deleted this way, against idle.
    /// [`run_cleanup`](Self::run_cleanup) cleans this way.
    pub async fn cleanup_gently(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
        timer: &dyn Timer,
    ) -> Result<CleanupReport, Error> {
        self.cleanup_with(now, batch, Some(timer)).await
    }

    async fn cleanup_with(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
        rest: Option<&dyn Timer>,
    ) -> Result<CleanupReport, Error> {
        // Each step captures only references and copies, so its future stays `Send`.
        let this = self;
        let devices = self
            .in_batches(batch, rest, move |size| async move {
                let expired = this.inner.devices.delete_expired(now, size).await?;
                let count = u64::try_from(expired.len()).unwrap_or(u64::MAX);
                this.finish_revocation(expired, RevokeReason::Expired).await;
                Ok(count)
            })
            .await?;
        let consumed_before = now - self.inner.policy.refresh_reuse_grace;
        let store = &self.inner.tokens;
        let seals = self
            .in_batches(batch, rest, move |size| async move {
                Ok(store.forget_sealed(consumed_before, size).await?)
            })
            .await?;
        let tokens = self
            .in_batches(batch, rest, move |size| async move {
                Ok(store.delete_expired(now, size).await?)
            })
            .await?;
        Ok(CleanupReport {
            devices,
            tokens,
            seals,
        })
    }

    /// Runs `step` (one storage call of at most the size it is given, returning how many it
    /// handled) until a call handles fewer than asked. When `rest` is given, rests after each
    /// full call as long as it took and paces the size ([`paced`]). Returns the total.
    async fn in_batches<F, Fut>(
        &self,
        batch: NonZeroU32,
        rest: Option<&dyn Timer>,
        mut step: F,
    ) -> Result<u64, Error>
    where
        F: FnMut(NonZeroU32) -> Fut,
        Fut: Future<Output = Result<u64, Error>>,
    {
        let mut total = 0;
        let mut size = batch;
        loop {
            let started = self.inner.clock.now();
            let count = step(size).await?;
            total += count;
            if count < u64::from(size.get()) {
                return Ok(total);
            }
            let Some(timer) = rest else {
                continue;
            };
            let took = (self.inner.clock.now() - started)
                .to_std()
                .unwrap_or_default();
            if !took.is_zero() {
                timer.sleep(took).await;
            }
            size = paced(size, batch, took);
        }
    }

    /// Rule C, periodically: runs [`cleanup`](Self::cleanup) now and then every
    /// `interval` (in batches of [`CLEANUP_BATCH`]) until `stop` completes. A run in
    /// progress finishes first, so stopping never interrupts a batch. Each run that
    /// deleted something is logged at `info`, a failed one at `warn` (target
    /// `trusted_devices`); a failure never ends the loop: the next run tries again.
    ///
    /// Nothing expires in storage by itself, so an application runs this (or calls
    /// `cleanup` from its own scheduler). The web adapters' `spawn_cleanup` runs it on
    /// their runtime with a stop handle; `timer` is the runtime's sleep.
    pub async fn run_cleanup(
        &self,
        interval: Duration,
        timer: &dyn Timer,
        stop: impl Future<Output = ()>,
    ) {
        let mut stop = pin!(stop);
        loop {
            match self.cleanup_gently(self.now(), CLEANUP_BATCH, timer).await {
                Ok(report) if report != CleanupReport::default() => tracing::info!(
                    target: TARGET,
                    devices = report.devices,
                    tokens = report.tokens,
                    seals = report.seals,
                    "cleanup"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(target: TARGET, %error, "cleanup failed"),
            }
            let mut pause = timer.sleep(interval);
            let stopped = std::future::poll_fn(|cx| {
                if stop.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                pause.as_mut().poll(cx).map(|()| false)
            })
            .await;
            if stopped {
                return;
            }
        }
    }
}

/// The next batch size after a batch of `size` took `took`: half after one over
/// [`CLEANUP_BATCH_TIME`], a quarter more after one under half of it, never below 1 nor
/// above `most`. Halving answers a slow store within a few calls; growing slowly keeps it
/// from swinging back over.
fn paced(size: NonZeroU32, most: NonZeroU32, took: Duration) -> NonZeroU32 {
    let next = if took > CLEANUP_BATCH_TIME {
        size.get() / 2
    } else if took < CLEANUP_BATCH_TIME / 2 {
        size.get().saturating_add((size.get() / 4).max(1))
    } else {
        size.get()
    };
    NonZeroU32::new(next.min(most.get())).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(value: u32) -> NonZeroU32 {
        NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
    }

    #[test]
    fn a_slow_batch_halves_the_next_down_to_one() {
        let slow = CLEANUP_BATCH_TIME * 3;
        assert_eq!(paced(n(100), n(100), slow), n(50));
        assert_eq!(paced(n(1), n(100), slow), n(1));
    }

    #[test]
    fn a_quick_batch_grows_the_next_by_a_quarter_up_to_the_batch_given() {
        let quick = CLEANUP_BATCH_TIME / 4;
        assert_eq!(paced(n(40), n(100), quick), n(50));
        assert_eq!(paced(n(1), n(100), quick), n(2));
        assert_eq!(paced(n(90), n(100), quick), n(100));
    }

    #[test]
    fn a_batch_near_the_target_keeps_its_size() {
        assert_eq!(paced(n(40), n(100), CLEANUP_BATCH_TIME), n(40));
        assert_eq!(paced(n(40), n(100), CLEANUP_BATCH_TIME * 3 / 4), n(40));
    }
}
