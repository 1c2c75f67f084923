//! The policy (SPEC §3): plain data, built and validated by [`PolicyBuilder`]. The settings
//! themselves are one table, in `settings.rs`.

#[macro_use]
mod define;
mod authorization;
mod builder;
mod dpop_mode;
mod eviction;
mod kind;
mod new_device;
mod settings;

pub use crate::duration::parse_duration;
pub use builder::PolicyError;
pub use dpop_mode::{DpopMode, UnknownDpopMode};
pub use eviction::{Eviction, UnknownEviction};
pub use settings::{Policy, PolicyBuilder, SETTINGS};

/// One setting of SPEC §3 as [`SETTINGS`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Setting {
    /// Its name in SPEC §3 and in [`PolicyBuilder::set`]: `delete_delay`.
    pub name: &'static str,
    /// What it does.
    pub doc: &'static str,
    /// Its default in the settings spelling: `24h`.
    pub default: &'static str,
    /// What its settings spelling accepts: `a duration such as 90s, 15m, 24h or 7d`.
    pub spelling: &'static str,
    /// Whether it is true or false, so that a bare command-line flag can mean `true`.
    pub is_flag: bool,
}

impl Policy {
    /// A builder starting from the defaults.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }
}
