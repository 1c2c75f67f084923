//! Rule G: `DeviceCreated` carries what is new about a login against the user's other live
//! devices; every signal true and false, with a manual clock. Signals never refuse a login.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::IpAddr;
use std::sync::Arc;

use chrono::TimeDelta;
use common::{RecordingHook, keys};
use trusted_devices_core::{
    BoxError, Coordinates, DeviceInfo, Event, Geolocator, Location, ManualClock, RiskSignals,
    TrustedDevices, UserId, async_trait,
};

const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const FIREFOX_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Addresses and where they are: Lisbon on two networks, Sintra (25 km away), Paris.
struct Atlas;

fn place(country: &str, city: &str, asn: u32, lat: f64, lon: f64) -> Location {
    Location {
        country_code: Some(country.into()),
        city: Some(city.into()),
        asn: Some(asn),
        coordinates: Coordinates::new(lat, lon),
        ..Location::default()
    }
}

#[async_trait]
impl Geolocator for Atlas {
    async fn locate(&self, login: &DeviceInfo) -> Result<Option<Location>, BoxError> {
        let Some(ip) = login.ip else { return Ok(None) };
        Ok(match ip.to_string().as_str() {
            "203.0.113.1" | "203.0.113.2" => Some(place("PT", "Lisbon", 64_501, 38.72, -9.14)),
            "203.0.113.3" => Some(place("PT", "Lisbon", 64_502, 38.72, -9.14)),
            "203.0.113.4" => Some(place("PT", "Sintra", 64_501, 38.80, -9.38)),
            "198.51.100.1" => Some(place("FR", "Paris", 64_600, 48.86, 2.35)),
            _ => None,
        })
    }
}

struct Rig {
    service: TrustedDevices,
    clock: Arc<ManualClock>,
    hook: Arc<RecordingHook>,
}

impl Rig {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
        let hook = Arc::new(RecordingHook::default());
        let service = TrustedDevices::builder(keys())
            .clock(clock.clone())
            .geolocator(Arc::new(Atlas))
            .hook(hook.clone())
            .build();
        Self {
            service,
            clock,
            hook,
        }
    }

    /// Logs alice in and returns the signals her `DeviceCreated` carried.
    async fn login(&self, info: DeviceInfo) -> RiskSignals {
        self.service
            .login(UserId::new("alice").unwrap(), info)
            .await
            .expect("signals never refuse a login");
        let events = self.hook.take();
        match events.last() {
            Some(Event::DeviceCreated { signals, .. }) => *signals,
            other => panic!("expected DeviceCreated, got {other:?}"),
        }
    }

    fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }
}

fn from(ip: &str, user_agent: &str) -> DeviceInfo {
    DeviceInfo::new()
        .ip(ip.parse::<IpAddr>().unwrap())
        .user_agent(user_agent)
}

#[tokio::test]
async fn rule_g_a_first_device_is_new_in_every_known_part_and_never_impossible_travel() {
    let rig = Rig::new();
    let signals = rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    assert_eq!(
        signals.names(),
        vec![
            "new_ip",
            "new_network",
            "new_country",
            "new_browser",
            "new_os"
        ]
    );
    assert!(!signals.impossible_travel);
}

#[tokio::test]
async fn rule_g_unknown_parts_are_never_new() {
    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    let signals = rig
        .login(DeviceInfo::new().user_agent("SomethingElse/1.0"))
        .await;
    assert_eq!(
        signals,
        RiskSignals::default(),
        "no address, no location, no browser"
    );
}

#[tokio::test]
async fn rule_g_new_ip_and_new_network() {
    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    let same = rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    assert!(!same.new_ip && !same.new_network);
    let same_network = rig.login(from("203.0.113.2", FIREFOX_LINUX)).await;
    assert!(same_network.new_ip && !same_network.new_network);
    let other_network = rig.login(from("203.0.113.3", FIREFOX_LINUX)).await;
    assert!(other_network.new_ip && other_network.new_network);
    assert!(!other_network.new_country);
}

#[tokio::test]
async fn rule_g_new_country() {
    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    rig.advance(TimeDelta::days(1));
    let france = rig.login(from("198.51.100.1", FIREFOX_LINUX)).await;
    assert!(france.new_country);
    let portugal = rig.login(from("203.0.113.3", FIREFOX_LINUX)).await;
    assert!(!portugal.new_country);
}

#[tokio::test]
async fn rule_g_new_browser_and_new_os_compare_families_not_versions() {
    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    let chrome = rig.login(from("203.0.113.1", CHROME_LINUX)).await;
    assert!(chrome.new_browser && !chrome.new_os);
    let windows = rig.login(from("203.0.113.1", FIREFOX_WINDOWS)).await;
    assert!(!windows.new_browser && windows.new_os);
    let newer_firefox = FIREFOX_LINUX.replace("128.0", "131.0");
    let update = rig.login(from("203.0.113.1", &newer_firefox)).await;
    assert!(!update.new_browser && !update.new_os);
}

#[tokio::test]
async fn rule_g_client_hints_name_the_browser_and_os() {
    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_WINDOWS)).await;
    // A Chromium browser with a frozen Linux User-Agent, whose hints say Edge on Windows.
    let mut hinted = from("203.0.113.1", CHROME_LINUX);
    hinted.client_hint_brands =
        Some(r#""Chromium";v="124", "Microsoft Edge";v="124", "Not-A.Brand";v="99""#.into());
    hinted.client_hint_platform = Some(r#""Windows""#.into());
    let signals = rig.login(hinted).await;
    assert!(signals.new_browser, "Edge is new");
    assert!(
        !signals.new_os,
        "Windows is not, whatever the User-Agent says"
    );
}

#[tokio::test]
async fn rule_g_impossible_travel_needs_over_1000_kmh_from_the_nearest_sighting() {
    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    rig.advance(TimeDelta::minutes(30));
    // Lisbon to Paris, about 1,450 km, in half an hour.
    let flight = rig.login(from("198.51.100.1", FIREFOX_LINUX)).await;
    assert!(flight.impossible_travel);
    // Now a device was just seen in Paris: from Paris again is no travel at all.
    let stay = rig.login(from("198.51.100.1", FIREFOX_LINUX)).await;
    assert!(!stay.impossible_travel);
}

#[tokio::test]
async fn rule_g_travel_is_possible_after_enough_time_or_within_the_tolerance() {
    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    rig.advance(TimeDelta::minutes(1));
    let next_town = rig.login(from("203.0.113.4", FIREFOX_LINUX)).await;
    assert!(
        !next_town.impossible_travel,
        "25 km is within the tolerance"
    );

    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    rig.advance(TimeDelta::hours(3));
    let flight = rig.login(from("198.51.100.1", FIREFOX_LINUX)).await;
    assert!(!flight.impossible_travel, "about 450 km/h");
}

#[tokio::test]
async fn rule_g_ended_sessions_are_not_compared() {
    let rig = Rig::new();
    rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    rig.advance(TimeDelta::days(31)); // past the 30-day idle timeout
    let signals = rig.login(from("203.0.113.1", FIREFOX_LINUX)).await;
    assert!(signals.new_ip && signals.new_network && signals.new_browser);
}
