//! Rule C: expired devices and tokens are deleted in batches, never silently elsewhere.

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::audit::Cause;
use crate::error::Error;
use crate::event_log::TARGET;
use crate::events::RevokeReason;
use crate::geolocation::Timer;
use crate::service::TrustedDevices;

/// The batch of each storage call a periodic cleanup makes: small enough that no call
/// holds a lock for long (SQLite's one writer waits for it), large enough that a backlog of
/// a million clears in minutes. Measured (`BENCHMARKS.md`): against 100, batches of 25 cut
/// login p99 beside a million-device cleanup from 5.0 to 3.5 ms on SQLite and from 2.9 to
/// 1.8 ms on PostgreSQL, for a cleanup 2.4-2.6x longer.
pub const CLEANUP_BATCH: NonZeroU32 = match NonZeroU32::new(25) {
    Some(batch) => batch,
    None => NonZeroU32::MIN,
};

/// How many times as long as a batch took [`TrustedDevices::cleanup_gently`] rests after
/// it: 9, so that a cleanup keeps storage busy at most a tenth of the time. On a small
/// machine the requests beside it share its cores and disk as well as its locks; measured
/// (`BENCHMARKS.md`), resting as long as each batch took (1) left login p99 beside a
/// million-device cleanup on SQLite at 3.2x idle, and 9 brings it within 2x. Expired
/// devices are refused by every request whether or not cleanup has reached them, so a
/// slower cleanup costs disk space for longer, never access.
pub const CLEANUP_REST_FACTOR: u32 = 9;

/// What [`TrustedDevices::cleanup`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Devices whose idle or absolute deadline had passed.
    pub devices: u64,
    /// Refresh-token records past their `expires_at`.
    pub tokens: u64,
    /// Sealed successors forgotten because their reuse grace had passed.
    pub seals: u64,
    /// History entries older than `audit_retention` (rule H).
    pub audit_entries: u64,
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
        self.cleanup_with::<std::future::Pending<()>>(now, batch, None)
            .await
    }

    /// [`cleanup`](Self::cleanup), resting after each full batch [`CLEANUP_REST_FACTOR`]
    /// times as long as the batch took (measured by the service's clock, slept by `timer`),
    /// so that requests beside it keep their latency (`BENCHMARKS.md` gives login p99 beside
    /// a million-device cleanup); the cleanup takes about ten times as long as it would
    /// flat out. [`run_cleanup`](Self::run_cleanup) cleans this way.
    pub async fn cleanup_gently(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
        timer: &dyn Timer,
    ) -> Result<CleanupReport, Error> {
        let never = pin!(std::future::pending());
        let mut rests = Rests::new(timer, never);
        self.cleanup_with(now, batch, Some(&mut rests)).await
    }

    async fn cleanup_with<S: Future<Output = ()>>(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
        mut rests: Option<&mut Rests<'_, S>>,
    ) -> Result<CleanupReport, Error> {
        // Each step captures only references and copies, so its future stays `Send`.
        let this = self;
        let devices = self
            .in_batches(batch, rests.as_deref_mut(), move || async move {
                let expired = this.inner.devices.delete_expired(now, batch).await?;
                let count = u64::try_from(expired.len()).unwrap_or(u64::MAX);
                let nobody = Cause::default();
                this.finish_revocation(expired, RevokeReason::Expired, &nobody)
                    .await;
                Ok(count)
            })
            .await?;
        let consumed_before = now - self.inner.policy.refresh_reuse_grace;
        let store = &self.inner.tokens;
        let seals = self
            .in_batches(batch, rests.as_deref_mut(), move || async move {
                Ok(store.forget_sealed(consumed_before, batch).await?)
            })
            .await?;
        let tokens = self
            .in_batches(batch, rests.as_deref_mut(), move || async move {
                Ok(store.delete_expired(now, batch).await?)
            })
            .await?;
        let audit_entries = match &self.inner.audit {
            Some(audit) => {
                let cutoff = now - self.inner.policy.audit_retention;
                self.in_batches(batch, rests, move || async move {
                    Ok(audit.delete_before(cutoff, batch).await?)
                })
                .await?
            }
            None => 0,
        };
        Ok(CleanupReport {
            devices,
            tokens,
            seals,
            audit_entries,
        })
    }

    /// Runs `step` (one storage call of at most `batch`, returning how many it handled)
    /// until a call handles fewer than `batch`, resting after each full one when `rests`
    /// is given, and not at all once it was stopped. Returns the total.
    async fn in_batches<F, Fut, S>(
        &self,
        batch: NonZeroU32,
        mut rests: Option<&mut Rests<'_, S>>,
        mut step: F,
    ) -> Result<u64, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<u64, Error>>,
        S: Future<Output = ()>,
    {
        let mut total = 0;
        loop {
            if rests.as_ref().is_some_and(|rests| rests.stopped) {
                return Ok(total);
            }
            let started = self.inner.clock.now();
            let count = step().await?;
            total += count;
            if count < u64::from(batch.get()) {
                return Ok(total);
            }
            if let Some(rests) = rests.as_deref_mut() {
                let took = (self.inner.clock.now() - started)
                    .to_std()
                    .unwrap_or_default();
                rests.after(took).await;
            }
        }
    }

    /// Rule C, periodically: runs [`cleanup_gently`](Self::cleanup_gently) now and then
    /// every `interval` (in batches of [`CLEANUP_BATCH`]) until `stop` completes. Stopping
    /// never interrupts a batch: a run in progress stops at its next rest, so that a long
    /// backlog cannot hold a shutdown. Each run that deleted something is logged at `info`,
    /// a failed one at `warn` (target `trusted_devices`); a failure never ends the loop: the
    /// next run tries again.
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
        let stop = pin!(stop);
        let mut rests = Rests::new(timer, stop);
        loop {
            match self
                .cleanup_with(self.now(), CLEANUP_BATCH, Some(&mut rests))
                .await
            {
                Ok(report) if report != CleanupReport::default() => tracing::info!(
                    target: TARGET,
                    devices = report.devices,
                    tokens = report.tokens,
                    seals = report.seals,
                    audit_entries = report.audit_entries,
                    "cleanup"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(target: TARGET, %error, "cleanup failed"),
            }
            if rests.sleep_unless_stopped(interval).await {
                return;
            }
        }
    }
}

/// How a gentle cleanup rests between batches: [`CLEANUP_REST_FACTOR`] times as long as
/// each took, slept by `timer`, until `stop` completes; from then on it rests no more and
/// runs no further batch.
struct Rests<'a, S> {
    timer: &'a dyn Timer,
    stop: Pin<&'a mut S>,
    /// `stop` completed, so it is never polled again.
    stopped: bool,
}

impl<'a, S: Future<Output = ()>> Rests<'a, S> {
    fn new(timer: &'a dyn Timer, stop: Pin<&'a mut S>) -> Self {
        Self {
            timer,
            stop,
            stopped: false,
        }
    }

    /// Rests after a batch that took `took`.
    async fn after(&mut self, took: Duration) {
        if !took.is_zero() {
            self.sleep_unless_stopped(took.saturating_mul(CLEANUP_REST_FACTOR))
                .await;
        }
    }

    /// Sleeps `duration`, or less if `stop` completes first; returns whether it did.
    async fn sleep_unless_stopped(&mut self, duration: Duration) -> bool {
        if self.stopped {
            return true;
        }
        let mut pause = self.timer.sleep(duration);
        let stop = &mut self.stop;
        self.stopped = std::future::poll_fn(|cx| {
            if stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            pause.as_mut().poll(cx).map(|()| false)
        })
        .await;
        self.stopped
    }
}
