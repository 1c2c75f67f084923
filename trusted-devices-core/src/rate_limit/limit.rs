//! How large a bucket is: a count per window, and its settings spelling (`20/1m`).

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::duration::parse_duration;

/// `count` requests per `window`: at most `count` at once, then one more each
/// `window / count` (a token bucket). Zero in either disables the limit, which is why a
/// policy holds `Option<RateLimit>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    count: NonZeroU32,
    window: Duration,
}

impl RateLimit {
    /// `count` per `window`; `None` when either is zero (no limit).
    #[must_use]
    pub const fn new(count: u32, window: Duration) -> Option<Self> {
        match NonZeroU32::new(count) {
            Some(count) if !window.is_zero() => Some(Self { count, window }),
            _ => None,
        }
    }

    /// How many requests the bucket holds.
    #[must_use]
    pub fn count(&self) -> NonZeroU32 {
        self.count
    }

    /// Over how long they come back.
    #[must_use]
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Microseconds between two tokens coming back (at least one).
    #[must_use]
    pub fn interval_micros(&self) -> i64 {
        let window = i64::try_from(self.window.as_micros()).unwrap_or(i64::MAX);
        (window / i64::from(self.count.get())).max(1)
    }

    /// How far ahead of now a bucket's instant may run and still admit: `count - 1`
    /// intervals (the bucket's size).
    #[must_use]
    pub fn burst_micros(&self) -> i64 {
        self.interval_micros()
            .saturating_mul(i64::from(self.count.get() - 1))
    }

    /// Reads `20/1m` (count / window), or `off` / `0` / `none` for no limit.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if matches!(text, "off" | "0" | "none" | "") {
            return Ok(None);
        }
        let (count, window) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a count per window such as 20/1m"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} does not start with a whole number"))?;
        let window = parse_duration(window)?;
        Ok(Self::new(count, window))
    }
}

/// `20/60s`: the count and the window in seconds (or milliseconds below a second).
impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.window.subsec_millis() == 0 {
            write!(f, "{}/{}s", self.count, self.window.as_secs())
        } else {
            write!(f, "{}/{}ms", self.count, self.window.as_millis())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_counts_per_window_and_off() {
        let twenty = RateLimit::new(20, Duration::from_secs(60));
        assert_eq!(RateLimit::parse("20/1m"), Ok(twenty));
        assert_eq!(RateLimit::parse(" 20 / 60s "), Ok(twenty));
        for off in ["off", "0", "none", "0/1m", "5/0s"] {
            assert_eq!(RateLimit::parse(off), Ok(None), "{off}");
        }
        for bad in ["20", "x/1m", "20/1", "-1/1m", "20/1y"] {
            assert!(RateLimit::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            twenty.map(|limit| limit.to_string()).as_deref(),
            Some("20/60s")
        );
    }

    #[test]
    fn interval_and_burst_follow_the_count() {
        let limit = RateLimit::new(4, Duration::from_secs(60));
        assert_eq!(limit.map(|l| l.interval_micros()), Some(15_000_000));
        assert_eq!(limit.map(|l| l.burst_micros()), Some(45_000_000));
    }
}
