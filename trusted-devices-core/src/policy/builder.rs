use std::num::NonZeroU32;
use std::time::Duration;

use chrono::TimeDelta;

use crate::policy::{Eviction, Policy};

/// Why a policy could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A duration that must be positive was zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// A duration too large to add to a timestamp (over 1,000 years).
    #[error("{0} is too long")]
    TooLong(&'static str),
    /// Access tokens carry whole seconds; a shorter lifetime would expire at once.
    #[error("access_token_ttl must be at least one second")]
    AccessTokenTtlUnderOneSecond,
    /// The reuse grace outlasts the idle timeout.
    #[error("refresh_reuse_grace must not be longer than refresh_idle_timeout")]
    GraceLongerThanIdleTimeout,
    /// `max_devices = 0` would refuse every login.
    #[error("max_devices must be at least 1")]
    ZeroMaxDevices,
}

/// The validated way to make a [`Policy`]; every setter names its default.
///
/// ```
/// use std::time::Duration;
/// use trusted_devices_core::{Eviction, Policy};
///
/// let policy = Policy::builder()
///     .max_devices(Some(3))
///     .eviction(Eviction::EvictLeastRecentlyUsed)
///     .delete_delay(Duration::ZERO)
///     .build()
///     .unwrap();
/// assert_eq!(policy.max_devices().map(|n| n.get()), Some(3));
/// assert!(Policy::builder().max_devices(Some(0)).build().is_err());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PolicyBuilder {
    access_token_ttl: Duration,
    refresh_idle_timeout: Duration,
    session_max_lifetime: Option<Duration>,
    delete_delay: Duration,
    update_delay: Duration,
    allow_global_delete: bool,
    allow_global_update: bool,
    default_can_delete_other_devices: bool,
    default_can_update_other_devices: bool,
    single_login: bool,
    max_devices: Option<u32>,
    eviction: Eviction,
    touch_interval: Duration,
    refresh_reuse_grace: Duration,
    leeway: Duration,
}

impl Default for PolicyBuilder {
    fn default() -> Self {
        let policy = Policy::default();
        Self {
            access_token_ttl: policy.access_token_ttl(),
            refresh_idle_timeout: policy.refresh_idle_timeout(),
            session_max_lifetime: policy.session_max_lifetime(),
            delete_delay: policy.delete_delay(),
            update_delay: policy.update_delay(),
            allow_global_delete: policy.allow_global_delete(),
            allow_global_update: policy.allow_global_update(),
            default_can_delete_other_devices: policy.default_can_delete_other_devices(),
            default_can_update_other_devices: policy.default_can_update_other_devices(),
            single_login: policy.single_login(),
            max_devices: policy.max_devices().map(NonZeroU32::get),
            eviction: policy.eviction(),
            touch_interval: policy.touch_interval(),
            refresh_reuse_grace: policy.refresh_reuse_grace(),
            leeway: policy.leeway(),
        }
    }
}

/// Above this a duration is refused: far beyond any sane session, far below overflow.
const LONGEST: TimeDelta = TimeDelta::days(366 * 1000);

fn delta(name: &'static str, duration: Duration) -> Result<TimeDelta, PolicyError> {
    TimeDelta::from_std(duration)
        .ok()
        .filter(|delta| *delta <= LONGEST)
        .ok_or(PolicyError::TooLong(name))
}

fn positive(name: &'static str, duration: Duration) -> Result<TimeDelta, PolicyError> {
    if duration.is_zero() {
        return Err(PolicyError::Zero(name));
    }
    delta(name, duration)
}

impl PolicyBuilder {
    /// Lifetime of an access token, at least one second [default: 15 min].
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }
    /// Sliding idle timeout; each refresh moves it [default: 30 days].
    pub fn refresh_idle_timeout(mut self, timeout: Duration) -> Self {
        self.refresh_idle_timeout = timeout;
        self
    }
    /// Absolute cap of a session, never moved by refresh [default: none].
    pub fn session_max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.session_max_lifetime = lifetime;
        self
    }
    /// Age an acting device needs to delete other devices; zero allowed [default: 24 h].
    pub fn delete_delay(mut self, delay: Duration) -> Self {
        self.delete_delay = delay;
        self
    }
    /// Age an acting device needs to change other devices; zero allowed [default: 1 h].
    pub fn update_delay(mut self, delay: Duration) -> Self {
        self.update_delay = delay;
        self
    }
    /// Whether devices may delete other devices at all [default: true].
    pub fn allow_global_delete(mut self, allow: bool) -> Self {
        self.allow_global_delete = allow;
        self
    }
    /// Whether devices may change other devices at all [default: true].
    pub fn allow_global_update(mut self, allow: bool) -> Self {
        self.allow_global_update = allow;
        self
    }
    /// `can_delete_other_devices` of new devices [default: true].
    pub fn default_can_delete_other_devices(mut self, can: bool) -> Self {
        self.default_can_delete_other_devices = can;
        self
    }
    /// `can_update_other_devices` of new devices [default: true].
    pub fn default_can_update_other_devices(mut self, can: bool) -> Self {
        self.default_can_update_other_devices = can;
        self
    }
    /// Whether a login revokes every other device of the user [default: false].
    pub fn single_login(mut self, single: bool) -> Self {
        self.single_login = single;
        self
    }
    /// The most devices a user may hold; `Some(0)` is refused at build [default: none].
    pub fn max_devices(mut self, max: Option<u32>) -> Self {
        self.max_devices = max;
        self
    }
    /// What a login does at the limit [default: `Eviction::Reject`].
    pub fn eviction(mut self, eviction: Eviction) -> Self {
        self.eviction = eviction;
        self
    }
    /// Minimum gap between two `last_seen_at` writes; zero allowed [default: 5 min].
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.touch_interval = interval;
        self
    }
    /// How long a consumed refresh token still yields its successor; zero allowed
    /// [default: 10 s].
    pub fn refresh_reuse_grace(mut self, grace: Duration) -> Self {
        self.refresh_reuse_grace = grace;
        self
    }
    /// Clock-skew allowance on `exp`; zero allowed [default: 5 s].
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<Policy, PolicyError> {
        let access_token_ttl = positive("access_token_ttl", self.access_token_ttl)?;
        if access_token_ttl < TimeDelta::seconds(1) {
            return Err(PolicyError::AccessTokenTtlUnderOneSecond);
        }
        let refresh_idle_timeout = positive("refresh_idle_timeout", self.refresh_idle_timeout)?;
        let session_max_lifetime = self
            .session_max_lifetime
            .map(|lifetime| positive("session_max_lifetime", lifetime))
            .transpose()?;
        let refresh_reuse_grace = delta("refresh_reuse_grace", self.refresh_reuse_grace)?;
        if refresh_reuse_grace > refresh_idle_timeout {
            return Err(PolicyError::GraceLongerThanIdleTimeout);
        }
        let max_devices = match self.max_devices {
            None => None,
            Some(max) => Some(NonZeroU32::new(max).ok_or(PolicyError::ZeroMaxDevices)?),
        };
        Ok(Policy {
            access_token_ttl,
            refresh_idle_timeout,
            session_max_lifetime,
            delete_delay: delta("delete_delay", self.delete_delay)?,
            update_delay: delta("update_delay", self.update_delay)?,
            allow_global_delete: self.allow_global_delete,
            allow_global_update: self.allow_global_update,
            default_can_delete_other_devices: self.default_can_delete_other_devices,
            default_can_update_other_devices: self.default_can_update_other_devices,
            single_login: self.single_login,
            max_devices,
            eviction: self.eviction,
            touch_interval: delta("touch_interval", self.touch_interval)?,
            refresh_reuse_grace,
            leeway: delta("leeway", self.leeway)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_spec_section_3() {
        let policy = Policy::builder().build().unwrap();
        assert_eq!(policy, Policy::default());
        assert_eq!(policy.access_token_ttl(), Duration::from_secs(15 * 60));
        assert_eq!(
            policy.refresh_idle_timeout(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(policy.session_max_lifetime(), None);
        assert_eq!(policy.delete_delay(), Duration::from_secs(86_400));
        assert_eq!(policy.update_delay(), Duration::from_secs(3_600));
        assert!(policy.allow_global_delete() && policy.allow_global_update());
        assert!(policy.default_can_delete_other_devices());
        assert!(policy.default_can_update_other_devices());
        assert!(!policy.single_login());
        assert_eq!(policy.max_devices(), None);
        assert_eq!(policy.eviction(), Eviction::Reject);
        assert_eq!(policy.touch_interval(), Duration::from_secs(300));
        assert_eq!(policy.refresh_reuse_grace(), Duration::from_secs(10));
        assert_eq!(policy.leeway(), Duration::from_secs(5));
    }

    #[test]
    fn invalid_settings_are_typed_errors() {
        let zero = Duration::ZERO;
        let cases = [
            (
                Policy::builder().access_token_ttl(zero),
                PolicyError::Zero("access_token_ttl"),
            ),
            (
                Policy::builder().access_token_ttl(Duration::from_millis(500)),
                PolicyError::AccessTokenTtlUnderOneSecond,
            ),
            (
                Policy::builder().refresh_idle_timeout(zero),
                PolicyError::Zero("refresh_idle_timeout"),
            ),
            (
                Policy::builder().session_max_lifetime(Some(zero)),
                PolicyError::Zero("session_max_lifetime"),
            ),
            (
                Policy::builder()
                    .refresh_idle_timeout(Duration::from_secs(5))
                    .refresh_reuse_grace(Duration::from_secs(6)),
                PolicyError::GraceLongerThanIdleTimeout,
            ),
            (
                Policy::builder().max_devices(Some(0)),
                PolicyError::ZeroMaxDevices,
            ),
            (
                Policy::builder().delete_delay(Duration::MAX),
                PolicyError::TooLong("delete_delay"),
            ),
        ];
        for (builder, expected) in cases {
            assert_eq!(builder.build(), Err(expected.clone()), "{expected}");
        }
    }

    #[test]
    fn zero_is_valid_for_delays_touch_grace_and_leeway() {
        let zero = Duration::ZERO;
        let policy = Policy::builder()
            .delete_delay(zero)
            .update_delay(zero)
            .touch_interval(zero)
            .refresh_reuse_grace(zero)
            .leeway(zero)
            .build()
            .unwrap();
        assert_eq!(policy.delete_delay(), zero);
        assert_eq!(policy.leeway(), zero);
    }

    #[test]
    fn eviction_modes_parse_from_settings_spelling() {
        for mode in [
            Eviction::Reject,
            Eviction::EvictLeastRecentlyUsed,
            Eviction::EvictOldest,
        ] {
            assert_eq!(mode.as_str().parse::<Eviction>(), Ok(mode));
        }
        assert!("evict-newest".parse::<Eviction>().is_err());
    }
}
