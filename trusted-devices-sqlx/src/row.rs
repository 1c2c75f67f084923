//! Decoding stored rows into the core's records, shared by both databases: each backend
//! reads its native column types into these plain structs, and the validation lives here.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::Value;
use trusted_devices_core::{
    Device, DeviceId, DeviceName, Location, Metadata, RefreshRecord, RefreshTokenHash, Rotated,
    SealedSuccessor, StorageError, UserId,
};

use trusted_devices_core::audit::{AuditEntry, AuditKind};
use trusted_devices_core::dpop::Thumbprint;

use crate::error::corrupt;

/// A device row with the database's types already read.
pub(crate) struct DeviceRow {
    pub(crate) id: uuid::Uuid,
    pub(crate) user_id: String,
    pub(crate) name: String,
    pub(crate) user_agent: String,
    pub(crate) ip: Option<String>,
    pub(crate) last_ip: Option<String>,
    pub(crate) location: Option<Value>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) last_seen_at: DateTime<Utc>,
    pub(crate) can_delete_other_devices: bool,
    pub(crate) can_update_other_devices: bool,
    pub(crate) metadata: Value,
    pub(crate) idle_expires_at: DateTime<Utc>,
    pub(crate) session_expires_at: Option<DateTime<Utc>>,
    pub(crate) dpop_jkt: Option<String>,
}

impl DeviceRow {
    pub(crate) fn into_device(self) -> Result<Device, StorageError> {
        Ok(Device {
            id: DeviceId::from_uuid(self.id),
            user_id: UserId::new(self.user_id).map_err(|e| corrupt("user_id", e))?,
            name: DeviceName::new(&self.name).map_err(|e| corrupt("name", e))?,
            user_agent: self.user_agent,
            ip: parse_ip(self.ip.as_deref())?,
            last_ip: parse_ip(self.last_ip.as_deref())?,
            location: parse_location(self.location)?,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            can_delete_other_devices: self.can_delete_other_devices,
            can_update_other_devices: self.can_update_other_devices,
            metadata: Metadata::new(self.metadata).map_err(|e| corrupt("metadata", e))?,
            idle_expires_at: self.idle_expires_at,
            session_expires_at: self.session_expires_at,
            dpop_jkt: self
                .dpop_jkt
                .map(|text| {
                    Thumbprint::parse(&text)
                        .ok_or_else(|| corrupt("dpop_jkt", "not a JWK thumbprint"))
                })
                .transpose()?,
        })
    }
}

fn parse_location(json: Option<Value>) -> Result<Option<Location>, StorageError> {
    json.map(serde_json::from_value::<Location>)
        .transpose()
        .map_err(|e| corrupt("location", e))
}

fn parse_ip(text: Option<&str>) -> Result<Option<IpAddr>, StorageError> {
    text.map(str::parse)
        .transpose()
        .map_err(|e| corrupt("ip", e))
}

/// The JSON of a location, for storage.
pub(crate) fn location_json(device: &Device) -> Option<Value> {
    location_value(device.location.as_ref())
}

/// The JSON of any location, for storage.
pub(crate) fn location_value(location: Option<&Location>) -> Option<Value> {
    location.and_then(|location| serde_json::to_value(location).ok())
}

/// A history row (rule H) with the database's types already read.
pub(crate) struct AuditRow {
    pub(crate) id: uuid::Uuid,
    pub(crate) user_id: String,
    pub(crate) at: DateTime<Utc>,
    pub(crate) kind: String,
    pub(crate) actor: Option<uuid::Uuid>,
    pub(crate) target: Option<uuid::Uuid>,
    pub(crate) target_name: Option<String>,
    pub(crate) detail: Option<String>,
    pub(crate) client_ip: Option<String>,
    pub(crate) location: Option<Value>,
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> Result<AuditEntry, StorageError> {
        Ok(AuditEntry {
            id: self.id,
            user_id: UserId::new(self.user_id).map_err(|e| corrupt("user_id", e))?,
            at: self.at,
            kind: AuditKind::from_name(&self.kind)
                .ok_or_else(|| corrupt("kind", format!("unknown kind {:?}", self.kind)))?,
            actor: self.actor.map(DeviceId::from_uuid),
            target: self.target.map(DeviceId::from_uuid),
            target_name: self.target_name,
            detail: self.detail,
            client_ip: parse_ip(self.client_ip.as_deref())?,
            location: parse_location(self.location)?,
        })
    }
}

/// The JSON of the metadata, for storage.
pub(crate) fn metadata_json(device: &Device) -> Value {
    Value::from(device.metadata.clone())
}

/// A refresh-token row with the database's types already read.
pub(crate) struct TokenRow {
    pub(crate) hash: Vec<u8>,
    pub(crate) device_id: uuid::Uuid,
    pub(crate) user_id: String,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) rotated_at: Option<DateTime<Utc>>,
    pub(crate) successor_hash: Option<Vec<u8>>,
    pub(crate) sealed_successor: Option<Vec<u8>>,
}

impl TokenRow {
    pub(crate) fn into_record(self) -> Result<RefreshRecord, StorageError> {
        let rotated = match (self.rotated_at, self.successor_hash, self.sealed_successor) {
            (Some(at), Some(successor), sealed) => Some(Rotated {
                at,
                successor: RefreshTokenHash::from_bytes(bytes32("successor_hash", &successor)?),
                // Forgotten once the reuse grace has passed.
                sealed_successor: sealed
                    .map(|sealed| bytes32("sealed_successor", &sealed))
                    .transpose()?
                    .map(SealedSuccessor::from_bytes),
            }),
            (None, None, None) => None,
            _ => return Err(StorageError::corrupt("a half-rotated refresh token")),
        };
        Ok(RefreshRecord {
            hash: RefreshTokenHash::from_bytes(bytes32("hash", &self.hash)?),
            device_id: DeviceId::from_uuid(self.device_id),
            user_id: UserId::new(self.user_id).map_err(|e| corrupt("user_id", e))?,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            rotated,
        })
    }
}

fn bytes32(what: &str, bytes: &[u8]) -> Result<[u8; 32], StorageError> {
    bytes
        .try_into()
        .map_err(|_| StorageError::corrupt(format!("{what} is not 32 bytes")))
}
