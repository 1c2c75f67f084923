//! How each kind of policy setting is checked, stored, read back and read from text. The
//! table in `settings.rs` names a kind per setting; nothing else knows about kinds.

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::TimeDelta;

use crate::duration::parse_duration;
use crate::policy::{DpopMode, Eviction, PolicyError};
use crate::rate_limit::RateLimit;

/// One kind of setting whose builder value is `V`.
pub(crate) trait Kind<V> {
    /// What the policy holds once checked: what the rules read.
    type Stored: Clone + PartialEq + Eq + std::fmt::Debug;
    /// The settings spelling, for help texts and refusals.
    const SPELLING: &'static str;
    /// Whether a bare command-line flag (`--single-login`) means `true`.
    const IS_FLAG: bool = false;
    /// Checks a builder value.
    fn store(setting: &'static str, value: V) -> Result<Self::Stored, PolicyError>;
    /// Stores a value without refusing it, clamping what `store` would refuse: only for
    /// the documented defaults, which a test builds through `store` as well.
    fn saturate(value: V) -> Self::Stored;
    /// The builder value back, for the getters.
    fn value(stored: &Self::Stored) -> V;
    /// Reads the settings spelling.
    fn parse(text: &str) -> Option<V>;
}

/// A duration; zero allowed.
pub(crate) struct Span;
/// A duration greater than zero.
pub(crate) struct PositiveSpan;
/// No duration (`none`), or one greater than zero.
pub(crate) struct OptionalSpan;
/// `true` or `false`.
pub(crate) struct Flag;
/// No limit (`none`), or a whole number of at least 1.
pub(crate) struct Limit;
/// An [`Eviction`] mode.
pub(crate) struct Mode;
pub(crate) struct Rate;
/// An IPv6 prefix length, 1 to 128.
pub(crate) struct Prefix;

/// Above this a duration is refused: far beyond any sane session, far below overflow.
const LONGEST: TimeDelta = TimeDelta::days(366 * 1000);

fn delta(setting: &'static str, duration: Duration) -> Result<TimeDelta, PolicyError> {
    TimeDelta::from_std(duration)
        .ok()
        .filter(|delta| *delta <= LONGEST)
        .ok_or(PolicyError::TooLong(setting))
}

fn positive(setting: &'static str, duration: Duration) -> Result<TimeDelta, PolicyError> {
    if duration.is_zero() {
        return Err(PolicyError::Zero(setting));
    }
    delta(setting, duration)
}

fn to_std(delta: TimeDelta) -> Duration {
    delta.to_std().unwrap_or_default()
}

/// `none` (or nothing) for an optional setting.
fn is_none(text: &str) -> bool {
    matches!(text.trim(), "" | "none")
}

impl Kind<Duration> for Span {
    type Stored = TimeDelta;
    const SPELLING: &'static str = "a duration such as 500ms, 90s, 15m, 24h or 7d";
    fn store(setting: &'static str, value: Duration) -> Result<TimeDelta, PolicyError> {
        delta(setting, value)
    }
    fn saturate(value: Duration) -> TimeDelta {
        TimeDelta::from_std(value).unwrap_or(LONGEST).min(LONGEST)
    }
    fn value(stored: &TimeDelta) -> Duration {
        to_std(*stored)
    }
    fn parse(text: &str) -> Option<Duration> {
        parse_duration(text).ok()
    }
}

impl Kind<Duration> for PositiveSpan {
    type Stored = TimeDelta;
    const SPELLING: &'static str = "a duration above zero such as 90s, 15m, 24h or 7d";
    fn store(setting: &'static str, value: Duration) -> Result<TimeDelta, PolicyError> {
        positive(setting, value)
    }
    fn saturate(value: Duration) -> TimeDelta {
        Span::saturate(value)
    }
    fn value(stored: &TimeDelta) -> Duration {
        to_std(*stored)
    }
    fn parse(text: &str) -> Option<Duration> {
        parse_duration(text).ok()
    }
}

impl Kind<Option<Duration>> for OptionalSpan {
    type Stored = Option<TimeDelta>;
    const SPELLING: &'static str = "none, or a duration above zero such as 24h or 90d";
    fn store(setting: &'static str, value: Option<Duration>) -> Result<Self::Stored, PolicyError> {
        value.map(|value| positive(setting, value)).transpose()
    }
    fn saturate(value: Option<Duration>) -> Self::Stored {
        value.map(Span::saturate)
    }
    fn value(stored: &Self::Stored) -> Option<Duration> {
        stored.map(to_std)
    }
    fn parse(text: &str) -> Option<Option<Duration>> {
        if is_none(text) {
            return Some(None);
        }
        parse_duration(text).ok().map(Some)
    }
}

impl Kind<bool> for Flag {
    type Stored = bool;
    const SPELLING: &'static str = "true or false";
    const IS_FLAG: bool = true;
    fn store(_: &'static str, value: bool) -> Result<bool, PolicyError> {
        Ok(value)
    }
    fn saturate(value: bool) -> bool {
        value
    }
    fn value(stored: &bool) -> bool {
        *stored
    }
    fn parse(text: &str) -> Option<bool> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        }
    }
}

impl Kind<Option<u32>> for Limit {
    type Stored = Option<NonZeroU32>;
    const SPELLING: &'static str = "none, or a whole number of at least 1";
    fn store(setting: &'static str, value: Option<u32>) -> Result<Self::Stored, PolicyError> {
        value
            .map(|value| NonZeroU32::new(value).ok_or(PolicyError::Zero(setting)))
            .transpose()
    }
    fn saturate(value: Option<u32>) -> Self::Stored {
        value.map(|value| NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN))
    }
    fn value(stored: &Self::Stored) -> Option<u32> {
        stored.map(NonZeroU32::get)
    }
    fn parse(text: &str) -> Option<Option<u32>> {
        if is_none(text) {
            return Some(None);
        }
        text.trim().parse().ok().map(Some)
    }
}

impl Kind<Eviction> for Mode {
    type Stored = Eviction;
    const SPELLING: &'static str = "reject, evict-least-recently-used or evict-oldest";
    fn store(_: &'static str, value: Eviction) -> Result<Eviction, PolicyError> {
        Ok(value)
    }
    fn saturate(value: Eviction) -> Eviction {
        value
    }
    fn value(stored: &Eviction) -> Eviction {
        *stored
    }
    fn parse(text: &str) -> Option<Eviction> {
        text.trim().parse().ok()
    }
}

impl Kind<DpopMode> for Mode {
    type Stored = DpopMode;
    const SPELLING: &'static str = "off, allowed or required";
    fn store(_: &'static str, value: DpopMode) -> Result<DpopMode, PolicyError> {
        Ok(value)
    }
    fn saturate(value: DpopMode) -> DpopMode {
        value
    }
    fn value(stored: &DpopMode) -> DpopMode {
        *stored
    }
    fn parse(text: &str) -> Option<DpopMode> {
        text.trim().parse().ok()
    }
}

impl Kind<u8> for Prefix {
    type Stored = u8;
    const SPELLING: &'static str = "an IPv6 prefix length from 1 to 128, such as 64";
    fn store(setting: &'static str, value: u8) -> Result<u8, PolicyError> {
        match value {
            0 => Err(PolicyError::Zero(setting)),
            1..=128 => Ok(value),
            _ => Err(PolicyError::Unreadable {
                setting,
                expected: Self::SPELLING,
            }),
        }
    }
    fn saturate(value: u8) -> u8 {
        value.clamp(1, 128)
    }
    fn value(stored: &u8) -> u8 {
        *stored
    }
    fn parse(text: &str) -> Option<u8> {
        text.trim().trim_start_matches('/').parse().ok()
    }
}

impl Kind<Option<RateLimit>> for Rate {
    type Stored = Option<RateLimit>;
    const SPELLING: &'static str = "a count per window such as 20/1m, or off";
    fn store(_: &'static str, value: Option<RateLimit>) -> Result<Self::Stored, PolicyError> {
        Ok(value)
    }
    fn saturate(value: Option<RateLimit>) -> Self::Stored {
        value
    }
    fn value(stored: &Self::Stored) -> Option<RateLimit> {
        *stored
    }
    fn parse(text: &str) -> Option<Option<RateLimit>> {
        RateLimit::parse(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_kinds_read_none() {
        assert_eq!(OptionalSpan::parse("none"), Some(None));
        assert_eq!(
            OptionalSpan::parse("90d"),
            Some(Some(Duration::from_secs(90 * 86_400)))
        );
        assert_eq!(Limit::parse("none"), Some(None));
        assert_eq!(Limit::parse("3"), Some(Some(3)));
        assert_eq!(Limit::parse("-1"), None);
        assert_eq!(Flag::parse("On"), Some(true));
        assert_eq!(Flag::parse("maybe"), None);
    }
}
