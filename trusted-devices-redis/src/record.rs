//! The stored format: a device and a refresh token each as one Redis hash whose field `v`
//! is the format version. Mutable device fields (name, flags, sightings, deadlines) are
//! fields of their own, so scripts change them without parsing JSON; the rest is one JSON
//! field.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trusted_devices_core::dpop::Thumbprint;
use trusted_devices_core::{
    Device, DeviceId, DeviceName, Location, Metadata, RefreshRecord, RefreshTokenHash, Rotated,
    SealedSuccessor, StorageError, UserId,
};

/// The version of the stored format written by this crate.
pub(crate) const FORMAT_VERSION: &str = "1";

/// What never changes after login.
#[derive(Serialize, Deserialize)]
struct Fixed {
    id: DeviceId,
    user_id: UserId,
    user_agent: String,
    ip: Option<IpAddr>,
    location: Option<Location>,
    created_at: i64,
    metadata: Metadata,
    /// SPEC §9; absent in records of bearer devices (and of versions before it), so the
    /// format stays version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<Thumbprint>,
}

pub(crate) fn micros(instant: DateTime<Utc>) -> String {
    instant.timestamp_micros().to_string()
}

fn optional_micros(instant: Option<DateTime<Utc>>) -> String {
    instant.map(micros).unwrap_or_default()
}

fn flag(value: bool) -> String {
    if value { "1" } else { "0" }.to_owned()
}

/// The hash fields of a device, as field/value pairs.
pub(crate) fn device_fields(device: &Device) -> Vec<String> {
    let fixed = Fixed {
        id: device.id,
        user_id: device.user_id.clone(),
        user_agent: device.user_agent.clone(),
        ip: device.ip,
        location: device.location.clone(),
        created_at: device.created_at.timestamp_micros(),
        metadata: device.metadata.clone(),
        dpop_jkt: device.dpop_jkt.clone(),
    };
    let pairs = [
        ("v", FORMAT_VERSION.to_owned()),
        ("fixed", serde_json::to_string(&fixed).unwrap_or_default()),
        ("name", device.name.as_str().to_owned()),
        ("last_seen", micros(device.last_seen_at)),
        (
            "last_ip",
            device.last_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        ),
        ("can_delete", flag(device.can_delete_other_devices)),
        ("can_update", flag(device.can_update_other_devices)),
        ("idle", micros(device.idle_expires_at)),
        ("session", optional_micros(device.session_expires_at)),
        ("deadline", micros(device.deadline())),
    ];
    pairs
        .into_iter()
        .flat_map(|(field, value)| [field.to_owned(), value])
        .collect()
}

/// A flat `HGETALL` answer as a map.
pub(crate) struct Fields(HashMap<String, String>);

impl Fields {
    pub(crate) fn from_flat(flat: Vec<String>) -> Result<Self, StorageError> {
        let mut map = HashMap::new();
        let mut items = flat.into_iter();
        while let (Some(field), Some(value)) = (items.next(), items.next()) {
            map.insert(field, value);
        }
        match map.get("v").map(String::as_str) {
            Some(FORMAT_VERSION) => Ok(Self(map)),
            Some(other) => Err(StorageError::corrupt(format!(
                "unknown stored format version {other}"
            ))),
            None => Err(StorageError::corrupt("a stored hash has no format version")),
        }
    }

    fn text(&self, field: &str) -> Result<&str, StorageError> {
        self.0
            .get(field)
            .map(String::as_str)
            .ok_or_else(|| StorageError::corrupt(format!("missing field {field}")))
    }

    fn optional(&self, field: &str) -> Option<&str> {
        self.0
            .get(field)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    fn instant(&self, field: &str) -> Result<DateTime<Utc>, StorageError> {
        parse_instant(field, self.text(field)?)
    }

    fn optional_instant(&self, field: &str) -> Result<Option<DateTime<Utc>>, StorageError> {
        self.optional(field)
            .map(|text| parse_instant(field, text))
            .transpose()
    }

    fn flag(&self, field: &str) -> Result<bool, StorageError> {
        Ok(self.text(field)? == "1")
    }

    fn hash(&self, field: &str) -> Result<Option<[u8; 32]>, StorageError> {
        self.optional(field)
            .map(|hex| from_hex(field, hex))
            .transpose()
    }
}

fn parse_instant(field: &str, text: &str) -> Result<DateTime<Utc>, StorageError> {
    text.parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(|| StorageError::corrupt(format!("{field} is not a timestamp")))
}

fn from_hex(field: &str, hex: &str) -> Result<[u8; 32], StorageError> {
    let bad = || StorageError::corrupt(format!("{field} is not 32 bytes of hex"));
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).map_err(|_| bad())?;
        *byte = u8::from_str_radix(text, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A device from its hash.
pub(crate) fn device(flat: Vec<String>) -> Result<Device, StorageError> {
    let fields = Fields::from_flat(flat)?;
    let fixed: Fixed = serde_json::from_str(fields.text("fixed")?)
        .map_err(|error| StorageError::corrupt(format!("device: {error}")))?;
    Ok(Device {
        id: fixed.id,
        user_id: fixed.user_id,
        name: DeviceName::new(fields.text("name")?)
            .map_err(|error| StorageError::corrupt(format!("name: {error}")))?,
        user_agent: fixed.user_agent,
        ip: fixed.ip,
        last_ip: fields
            .optional("last_ip")
            .map(str::parse)
            .transpose()
            .map_err(|_| StorageError::corrupt("last_ip is not an address"))?,
        location: fixed.location,
        created_at: DateTime::from_timestamp_micros(fixed.created_at)
            .ok_or_else(|| StorageError::corrupt("created_at is not a timestamp"))?,
        last_seen_at: fields.instant("last_seen")?,
        can_delete_other_devices: fields.flag("can_delete")?,
        can_update_other_devices: fields.flag("can_update")?,
        metadata: fixed.metadata,
        idle_expires_at: fields.instant("idle")?,
        session_expires_at: fields.optional_instant("session")?,
        dpop_jkt: fixed.dpop_jkt,
    })
}

/// The hash fields of a refresh-token record not yet rotated.
pub(crate) fn token_fields(record: &RefreshRecord) -> Vec<String> {
    [
        ("v", FORMAT_VERSION.to_owned()),
        ("device", record.device_id.to_string()),
        ("user", record.user_id.as_str().to_owned()),
        ("issued", micros(record.issued_at)),
        ("expires", micros(record.expires_at)),
    ]
    .into_iter()
    .flat_map(|(field, value)| [field.to_owned(), value])
    .collect()
}

/// A refresh-token record from its hash and its seal key's value (hex; `None` once Redis
/// has forgotten it). A record written before seals had keys of their own keeps its seal
/// in a `sealed` field, read when there is no key.
pub(crate) fn token(
    hash: RefreshTokenHash,
    flat: Vec<String>,
    seal: Option<&str>,
) -> Result<RefreshRecord, StorageError> {
    let fields = Fields::from_flat(flat)?;
    let seal = match seal {
        Some(hex) => Some(from_hex("seal", hex)?),
        None => fields.hash("sealed")?,
    };
    let rotated = match (
        fields.optional_instant("rotated_at")?,
        fields.hash("successor")?,
    ) {
        (Some(at), Some(successor)) => Some(Rotated {
            at,
            successor: RefreshTokenHash::from_bytes(successor),
            sealed_successor: seal.map(SealedSuccessor::from_bytes),
        }),
        (None, None) => None,
        _ => return Err(StorageError::corrupt("a half-rotated refresh token")),
    };
    Ok(RefreshRecord {
        hash,
        device_id: fields
            .text("device")?
            .parse()
            .map_err(|_| StorageError::corrupt("device is not a device id"))?,
        user_id: UserId::new(fields.text("user")?)
            .map_err(|error| StorageError::corrupt(format!("user: {error}")))?,
        issued_at: fields.instant("issued")?,
        expires_at: fields.instant("expires")?,
        rotated,
    })
}
