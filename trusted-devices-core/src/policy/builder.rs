//! Building a policy: the checks across settings, and what a refusal says.

use chrono::TimeDelta;

use crate::policy::{Policy, PolicyBuilder};

/// Why a policy could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A duration or count that must be positive was zero (`max_devices = 0` would refuse
    /// every login).
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
    /// A settings spelling that does not read as its setting's kind.
    #[error("{setting}: expected {expected}")]
    Unreadable {
        /// The setting.
        setting: &'static str,
        /// What its spelling accepts.
        expected: &'static str,
    },
    /// No setting of SPEC §3 has this name.
    #[error("no policy setting is named {0:?}")]
    UnknownSetting(String),
}

impl PolicyError {
    /// The setting this refusal is about, as named in SPEC §3 (`None` for an unknown name).
    #[must_use]
    pub fn setting(&self) -> Option<&'static str> {
        match self {
            Self::Zero(setting) | Self::TooLong(setting) => Some(setting),
            Self::Unreadable { setting, .. } => Some(setting),
            Self::AccessTokenTtlUnderOneSecond => Some("access_token_ttl"),
            Self::GraceLongerThanIdleTimeout => Some("refresh_reuse_grace"),
            Self::UnknownSetting(_) => None,
        }
    }
}

impl PolicyBuilder {
    /// Validates the settings: each on its own, then across settings.
    pub fn build(self) -> Result<Policy, PolicyError> {
        let policy = self.checked()?;
        if policy.access_token_ttl < TimeDelta::seconds(1) {
            return Err(PolicyError::AccessTokenTtlUnderOneSecond);
        }
        if policy.refresh_reuse_grace > policy.refresh_idle_timeout {
            return Err(PolicyError::GraceLongerThanIdleTimeout);
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::policy::{Eviction, SETTINGS};

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
        assert_eq!(policy.device_cache_ttl(), Duration::from_secs(1));
    }

    #[test]
    fn every_setting_reads_its_documented_default_back_from_its_spelling() {
        for setting in SETTINGS {
            let read = Policy::builder().set(setting.name, setting.default);
            let policy = read.and_then(PolicyBuilder::build);
            assert_eq!(policy, Ok(Policy::default()), "{}", setting.name);
        }
        assert_eq!(
            Policy::builder().set("no_such_setting", "1s").err(),
            Some(PolicyError::UnknownSetting("no_such_setting".to_owned()))
        );
        let unreadable = Policy::builder().set("leeway", "soon").err();
        assert_eq!(unreadable.and_then(|error| error.setting()), Some("leeway"));
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
                PolicyError::Zero("max_devices"),
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
