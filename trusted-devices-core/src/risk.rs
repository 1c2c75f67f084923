//! Rule G: what is new about a login, against the user's other live devices.
//!
//! Signals are data for the application's hook (an alert, a step-up challenge); they never
//! refuse a login by themselves.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Coordinates, Device, Software};

/// The speed above which getting from a device's last sighting to this login is taken as
/// impossible: faster than an airliner.
pub const IMPOSSIBLE_TRAVEL_KMH: f64 = 1_000.0;

/// Distance left unexplained before speed is measured: city-level coordinates of one
/// metropolitan area can be tens of kilometres apart, and a login a minute after a sighting
/// in the next town must not look like a flight.
pub const TRAVEL_TOLERANCE_KM: f64 = 100.0;

/// What is new about a login (rule G). A part that is unknown on the new device (no
/// address, no location, an unrecognised browser) is never new. On a user's first device
/// every known part is new, and travel is never impossible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RiskSignals {
    /// No other live device logged in from, or was last seen at, this address.
    pub new_ip: bool,
    /// No other live device's address is in this autonomous system (ASN).
    pub new_network: bool,
    /// No other live device logged in from this country.
    pub new_country: bool,
    /// No other live device uses this browser (family: "Firefox", not its version).
    pub new_browser: bool,
    /// No other live device runs this operating system (family: "Windows", "iOS").
    pub new_os: bool,
    /// Reaching this login's coordinates from even the nearest sighting of another device
    /// (its login location, at its last-seen time) needs more than
    /// [`IMPOSSIBLE_TRAVEL_KMH`], beyond [`TRAVEL_TOLERANCE_KM`].
    pub impossible_travel: bool,
}

impl RiskSignals {
    /// The names of the signals that are set, in the order of SPEC §4 G.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.new_ip, "new_ip"),
            (self.new_network, "new_network"),
            (self.new_country, "new_country"),
            (self.new_browser, "new_browser"),
            (self.new_os, "new_os"),
            (self.impossible_travel, "impossible_travel"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }

    /// Whether any signal is set.
    #[must_use]
    pub fn any(&self) -> bool {
        !self.names().is_empty()
    }
}

/// The signals of `device`, logging in at `now` with `software`, against `others` (the
/// user's devices before this login; ended sessions are left out here).
#[must_use]
pub fn assess(
    device: &Device,
    software: &Software,
    others: &[Device],
    now: DateTime<Utc>,
) -> RiskSignals {
    let live: Vec<&Device> = others
        .iter()
        .filter(|other| !other.has_ended(now))
        .collect();
    let location = device.location.as_ref();
    // Parsed once per distinct User-Agent: a user's devices mostly share a few.
    let agents: BTreeSet<&str> = live.iter().map(|other| other.user_agent.as_str()).collect();
    let others_software: Vec<Software> =
        agents.into_iter().map(Software::from_user_agent).collect();
    RiskSignals {
        new_ip: device.ip.is_some_and(|ip| {
            !live
                .iter()
                .any(|other| other.ip == Some(ip) || other.last_ip == Some(ip))
        }),
        new_network: is_new(location.and_then(|at| at.asn), &live, |other| {
            other.location.as_ref().and_then(|at| at.asn)
        }),
        new_country: is_new(location.and_then(|at| at.country_key()), &live, |other| {
            other.location.as_ref().and_then(|at| at.country_key())
        }),
        new_browser: software.browser.as_deref().is_some_and(|browser| {
            !others_software
                .iter()
                .any(|s| s.browser.as_deref() == Some(browser))
        }),
        new_os: software
            .os
            .as_deref()
            .is_some_and(|os| !others_software.iter().any(|s| s.os.as_deref() == Some(os))),
        impossible_travel: location
            .and_then(|at| at.coordinates)
            .is_some_and(|here| impossible_travel(here, &live, now)),
    }
}

/// Whether `value` is known and no device of `others` has it.
fn is_new<'d, T: PartialEq>(
    value: Option<T>,
    others: &[&'d Device],
    of: impl Fn(&'d Device) -> Option<T>,
) -> bool {
    value.is_some_and(|value| {
        !others
            .iter()
            .any(|other| of(other).as_ref() == Some(&value))
    })
}

/// Whether every sighting with coordinates needs a speed over the limit to reach `here` by
/// `now`; `false` when no device has coordinates.
fn impossible_travel(here: Coordinates, others: &[&Device], now: DateTime<Utc>) -> bool {
    let speeds: Vec<f64> = others
        .iter()
        .filter_map(|other| {
            let there = other.location.as_ref()?.coordinates?;
            let distance = (here.distance_km(&there) - TRAVEL_TOLERANCE_KM).max(0.0);
            let hours = (now - other.last_seen_at).num_milliseconds().max(0) as f64 / 3.6e6;
            Some(if distance == 0.0 {
                0.0
            } else if hours == 0.0 {
                f64::INFINITY
            } else {
                distance / hours
            })
        })
        .collect();
    !speeds.is_empty() && speeds.iter().all(|speed| *speed > IMPOSSIBLE_TRAVEL_KMH)
}
