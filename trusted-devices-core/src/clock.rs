//! The injected source of time: every rule takes `now` from a [`Clock`], so tests never sleep.

use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// A source of the current time.
///
/// Implementations return UTC; the service truncates to whole microseconds so that every
/// storage backend round-trips timestamps exactly.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Already whole microseconds, so that the service's truncation has nothing to do (it
    /// costs more than reading the clock: this runs on every request).
    fn now(&self) -> DateTime<Utc> {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
        since_epoch
            .ok()
            .and_then(|since| {
                let seconds = i64::try_from(since.as_secs()).ok()?;
                DateTime::from_timestamp(seconds, since.subsec_micros() * 1_000)
            })
            // A clock set before 1970: chrono's own reading handles it.
            .unwrap_or_else(Utc::now)
    }
}

/// A clock that moves only when told to: for tests of expiry and delays without sleeping.
///
/// ```
/// use trusted_devices_core::{Clock, ManualClock};
/// use chrono::TimeDelta;
///
/// let clock = ManualClock::at_unix_seconds(1_700_000_000);
/// let start = clock.now();
/// clock.advance(TimeDelta::hours(24));
/// assert_eq!(clock.now() - start, TimeDelta::hours(24));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    #[must_use]
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// A clock standing at the given Unix time in whole seconds (the epoch if out of range).
    #[must_use]
    pub fn at_unix_seconds(seconds: i64) -> Self {
        Self::new(DateTime::from_timestamp(seconds, 0).unwrap_or_default())
    }

    /// Moves the clock to `instant`.
    pub fn set(&self, instant: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = instant;
    }

    /// Moves the clock forward (or back, for a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.checked_add_signed(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Truncates to whole microseconds, the finest precision every backend stores.
pub(crate) fn to_micros(instant: DateTime<Utc>) -> DateTime<Utc> {
    if instant.timestamp_subsec_nanos().is_multiple_of(1_000) {
        return instant;
    }
    instant
        .duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(instant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_reads_whole_microseconds_near_chronos_own_reading() {
        let before = Utc::now();
        let now = SystemClock.now();
        assert_eq!(now.timestamp_subsec_nanos() % 1_000, 0);
        assert!((now - before).num_milliseconds().abs() < 1_000);
    }

    #[test]
    fn to_micros_truncates_and_keeps_whole_microseconds() {
        let whole = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        assert_eq!(to_micros(whole), whole);
        let finer = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(to_micros(finer), whole);
    }
}
