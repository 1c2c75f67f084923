//! Rule H's bound on repeated refusals: the history files a refusal that goes on and on
//! (a stream of guesses, a stolen token in a loop) once, not once per request. Kept per
//! server and bounded in keys: beyond the capacity the least used are forgotten, and a
//! refusal of theirs may be filed once more (the bound is on memory, never on correctness).

use std::hash::Hash;

use chrono::{DateTime, TimeDelta, Utc};

/// Until when (microseconds since the epoch) each key's last filing covers new refusals.
pub(super) struct FilingWindows<K> {
    until: quick_cache::sync::Cache<K, i64>,
}

impl<K: Eq + Hash + Clone> FilingWindows<K> {
    /// Remembers at most `capacity` keys.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            until: quick_cache::sync::Cache::new(capacity),
        }
    }

    /// Whether a refusal of `key` at `now` begins a run: a run goes on while refusals come
    /// within `window` of each other, each one moving its end (a steady stream is one run).
    pub(super) fn begins_run(&self, key: &K, now: DateTime<Utc>, window: TimeDelta) -> bool {
        let going_on = self.covered(key, now);
        self.cover(key, now, window);
        !going_on
    }

    /// Whether a refusal of `key` at `now` is the first within a fixed `window` from the
    /// last one filed: at most one per window, however steady the stream.
    pub(super) fn first_in_window(&self, key: &K, now: DateTime<Utc>, window: TimeDelta) -> bool {
        if self.covered(key, now) {
            return false;
        }
        self.cover(key, now, window);
        true
    }

    fn covered(&self, key: &K, now: DateTime<Utc>) -> bool {
        let now = now.timestamp_micros();
        self.until.get(key).is_some_and(|until| until > now)
    }

    fn cover(&self, key: &K, now: DateTime<Utc>, window: TimeDelta) {
        let window = window.num_microseconds().unwrap_or(i64::MAX);
        let until = now.timestamp_micros().saturating_add(window);
        self.until.insert(key.clone(), until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default()
    }

    #[test]
    fn rule_h_a_run_slides_and_a_window_does_not() {
        let minute = TimeDelta::seconds(60);
        let runs = FilingWindows::new(10);
        assert!(runs.begins_run(&1, at(0), minute));
        assert!(!runs.begins_run(&1, at(50), minute));
        assert!(
            !runs.begins_run(&1, at(100), minute),
            "within a minute of the last"
        );
        assert!(
            runs.begins_run(&1, at(200), minute),
            "a minute of silence ends the run"
        );

        let windows = FilingWindows::new(10);
        assert!(windows.first_in_window(&1, at(0), minute));
        assert!(!windows.first_in_window(&1, at(50), minute));
        assert!(
            windows.first_in_window(&1, at(61), minute),
            "a new window, not a slid one"
        );
        assert!(
            windows.first_in_window(&2, at(61), minute),
            "keys are apart"
        );
    }
}
