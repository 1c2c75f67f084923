use std::fmt;
use std::str::FromStr;

/// What a login does when the user already holds `max_devices` devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Eviction {
    /// Refuse the new login with `too_many_devices`; nothing is created.
    #[default]
    Reject,
    /// Revoke the other device with the oldest `last_seen_at` first.
    EvictLeastRecentlyUsed,
    /// Revoke the other device with the oldest `created_at` first.
    EvictOldest,
}

impl Eviction {
    /// The settings spelling: `reject`, `evict-least-recently-used`, `evict-oldest`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::EvictLeastRecentlyUsed => "evict-least-recently-used",
            Self::EvictOldest => "evict-oldest",
        }
    }
}

impl fmt::Display for Eviction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A settings value that names no eviction mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown eviction mode {0:?}: expected reject, evict-least-recently-used or evict-oldest")]
pub struct UnknownEviction(pub String);

impl FromStr for Eviction {
    type Err = UnknownEviction;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            Self::Reject,
            Self::EvictLeastRecentlyUsed,
            Self::EvictOldest,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == text)
        .ok_or_else(|| UnknownEviction(text.to_owned()))
    }
}
