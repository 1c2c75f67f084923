//! The policy (SPEC §3): plain data, built and validated by [`PolicyBuilder`].

mod authorization;
mod builder;
mod eviction;

pub use builder::{PolicyBuilder, PolicyError};
pub use eviction::{Eviction, UnknownEviction};

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::TimeDelta;

/// Every setting of SPEC §3. Build one with [`Policy::builder`]; [`Policy::default`] holds
/// the documented defaults.
///
/// Durations are kept as checked [`TimeDelta`]s so that no rule can overflow at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    access_token_ttl: TimeDelta,
    refresh_idle_timeout: TimeDelta,
    session_max_lifetime: Option<TimeDelta>,
    delete_delay: TimeDelta,
    update_delay: TimeDelta,
    allow_global_delete: bool,
    allow_global_update: bool,
    default_can_delete_other_devices: bool,
    default_can_update_other_devices: bool,
    single_login: bool,
    max_devices: Option<NonZeroU32>,
    eviction: Eviction,
    touch_interval: TimeDelta,
    refresh_reuse_grace: TimeDelta,
    leeway: TimeDelta,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            access_token_ttl: TimeDelta::minutes(15),
            refresh_idle_timeout: TimeDelta::days(30),
            session_max_lifetime: None,
            delete_delay: TimeDelta::hours(24),
            update_delay: TimeDelta::hours(1),
            allow_global_delete: true,
            allow_global_update: true,
            default_can_delete_other_devices: true,
            default_can_update_other_devices: true,
            single_login: false,
            max_devices: None,
            eviction: Eviction::Reject,
            touch_interval: TimeDelta::minutes(5),
            refresh_reuse_grace: TimeDelta::seconds(10),
            leeway: TimeDelta::seconds(5),
        }
    }
}

fn to_std(delta: TimeDelta) -> Duration {
    delta.to_std().unwrap_or_default()
}

impl Policy {
    /// A builder starting from the defaults.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// Lifetime of an access token.
    #[must_use]
    pub fn access_token_ttl(&self) -> Duration {
        to_std(self.access_token_ttl)
    }
    /// Sliding idle timeout of a session; each refresh moves it.
    #[must_use]
    pub fn refresh_idle_timeout(&self) -> Duration {
        to_std(self.refresh_idle_timeout)
    }
    /// Absolute cap of a session, never moved by refresh.
    #[must_use]
    pub fn session_max_lifetime(&self) -> Option<Duration> {
        self.session_max_lifetime.map(to_std)
    }
    /// Age an acting device needs before it may delete other devices.
    #[must_use]
    pub fn delete_delay(&self) -> Duration {
        to_std(self.delete_delay)
    }
    /// Age an acting device needs before it may change other devices.
    #[must_use]
    pub fn update_delay(&self) -> Duration {
        to_std(self.update_delay)
    }
    /// Whether any device may delete other devices at all.
    #[must_use]
    pub fn allow_global_delete(&self) -> bool {
        self.allow_global_delete
    }
    /// Whether any device may change other devices at all.
    #[must_use]
    pub fn allow_global_update(&self) -> bool {
        self.allow_global_update
    }
    /// `can_delete_other_devices` of a new device.
    #[must_use]
    pub fn default_can_delete_other_devices(&self) -> bool {
        self.default_can_delete_other_devices
    }
    /// `can_update_other_devices` of a new device.
    #[must_use]
    pub fn default_can_update_other_devices(&self) -> bool {
        self.default_can_update_other_devices
    }
    /// Whether a login revokes every other device of the user.
    #[must_use]
    pub fn single_login(&self) -> bool {
        self.single_login
    }
    /// The most devices a user may hold.
    #[must_use]
    pub fn max_devices(&self) -> Option<NonZeroU32> {
        self.max_devices
    }
    /// What a login does when the user already holds `max_devices`.
    #[must_use]
    pub fn eviction(&self) -> Eviction {
        self.eviction
    }
    /// Minimum gap between two `last_seen_at` writes of one device.
    #[must_use]
    pub fn touch_interval(&self) -> Duration {
        to_std(self.touch_interval)
    }
    /// How long a consumed refresh token still yields its successor.
    #[must_use]
    pub fn refresh_reuse_grace(&self) -> Duration {
        to_std(self.refresh_reuse_grace)
    }
    /// Clock-skew allowance when checking `exp`.
    #[must_use]
    pub fn leeway(&self) -> Duration {
        to_std(self.leeway)
    }

    pub(crate) fn access_token_ttl_delta(&self) -> TimeDelta {
        self.access_token_ttl
    }
    pub(crate) fn refresh_idle_timeout_delta(&self) -> TimeDelta {
        self.refresh_idle_timeout
    }
    pub(crate) fn session_max_lifetime_delta(&self) -> Option<TimeDelta> {
        self.session_max_lifetime
    }
    pub(crate) fn touch_interval_delta(&self) -> TimeDelta {
        self.touch_interval
    }
    pub(crate) fn refresh_reuse_grace_delta(&self) -> TimeDelta {
        self.refresh_reuse_grace
    }
    pub(crate) fn leeway_delta(&self) -> TimeDelta {
        self.leeway
    }
}
