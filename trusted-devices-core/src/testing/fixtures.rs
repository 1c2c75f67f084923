//! Test data for the suite and for users' own tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::domain::{Coordinates, Device, DeviceId, DeviceName, Location, Metadata, UserId};
use crate::random::{self, OsRandom};

/// A user id no other run will use.
#[must_use]
pub fn unique_user(label: &str) -> UserId {
    let nonce: [u8; 8] = random::bytes(&OsRandom);
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    UserId::new(format!("conformance-{label}-{nonce}")).unwrap_or_else(|_| unreachable!())
}

/// A device with every field set (both IP families, a location, metadata, a DPoP key), so that a
/// round trip through storage shows any field that is lost. Deadlines are 30 days away.
#[must_use]
pub fn sample_device(user: &UserId, created_at: DateTime<Utc>) -> Device {
    let metadata =
        Metadata::new(json!({"app_version": "1.2.3", "tenant": 42, "nested": {"a": [1, 2]}}))
            .unwrap_or_default();
    Device {
        id: DeviceId::generate(created_at, &OsRandom),
        user_id: user.clone(),
        name: DeviceName::new("Firefox on Linux").unwrap_or_else(|_| DeviceName::unknown()),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            .to_owned(),
        ip: Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
        last_ip: Some(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))),
        location: Some(Location {
            country: Some("France".to_owned()),
            region: Some("Île-de-France".to_owned()),
            city: None,
            country_code: Some("FR".to_owned()),
            asn: Some(3215),
            coordinates: Coordinates::new(48.8566, 2.3522),
        }),
        created_at,
        last_seen_at: created_at,
        can_delete_other_devices: true,
        can_update_other_devices: false,
        metadata,
        idle_expires_at: created_at + TimeDelta::days(30),
        session_expires_at: Some(created_at + TimeDelta::days(90)),
        // A key-bound device (SPEC §9): the binding must survive storage too.
        dpop_jkt: crate::dpop::Thumbprint::parse("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"),
    }
}

/// The suite's reference time: far in the future, so nothing it writes is expired by a
/// cleanup at the present time, with a random offset of up to a year in microseconds.
#[cfg(feature = "testing")]
pub(crate) fn base_time() -> DateTime<Utc> {
    let offset: [u8; 8] = random::bytes(&OsRandom);
    let micros = i64::try_from(u64::from_le_bytes(offset) % 31_536_000_000_000).unwrap_or(0);
    let base = DateTime::from_timestamp(7_258_118_400, 0).unwrap_or_default(); // 2200-01-01
    base + TimeDelta::microseconds(micros)
}

/// The reference time of the expiry checks: before every `base_time`, so a cleanup at it
/// only reaches devices that the expiry checks made.
#[cfg(feature = "testing")]
pub(crate) fn expiry_base_time() -> DateTime<Utc> {
    base_time() - TimeDelta::days(365 * 100)
}
