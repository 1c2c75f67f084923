//! The JSON shapes of SPEC §6.

use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

use crate::domain::{Device, DeviceId, Location};

pub(crate) fn rfc3339<S: Serializer>(
    instant: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&instant.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A device as clients see it: metadata and deadlines stay on the server.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceView<'a> {
    /// Device id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: DeviceId,
    /// Display name.
    pub name: &'a str,
    /// User-Agent at login.
    pub user_agent: &'a str,
    /// Address at login.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub ip: Option<IpAddr>,
    /// Last address seen.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub last_ip: Option<IpAddr>,
    /// Where the login came from.
    pub location: Option<LocationView<'a>>,
    /// RFC 3339.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// RFC 3339.
    #[serde(serialize_with = "rfc3339")]
    pub last_seen_at: DateTime<Utc>,
    /// Permission flag.
    pub can_delete_other_devices: bool,
    /// Permission flag.
    pub can_update_other_devices: bool,
    /// Whether this is the acting device.
    pub current: bool,
    /// Whether the device holds a key its tokens are bound to (SPEC §9, DPoP).
    pub key_bound: bool,
}

/// A device's location as SPEC §2 shows it: `{country, region, city}`. The network and
/// coordinates rule G compares stay on the server.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocationView<'a> {
    /// Country.
    pub country: Option<&'a str>,
    /// Region or state.
    pub region: Option<&'a str>,
    /// City.
    pub city: Option<&'a str>,
}

impl<'a> LocationView<'a> {
    /// The shown parts of `location`.
    #[must_use]
    pub fn new(location: &'a Location) -> Self {
        Self {
            country: location.country.as_deref(),
            region: location.region.as_deref(),
            city: location.city.as_deref(),
        }
    }
}

impl<'a> DeviceView<'a> {
    /// The view of `device`, `current` when it is the acting device.
    #[must_use]
    pub fn new(device: &'a Device, acting: DeviceId) -> Self {
        Self {
            id: device.id,
            name: device.name.as_str(),
            user_agent: &device.user_agent,
            ip: device.ip,
            last_ip: device.last_ip,
            location: device.location.as_ref().map(LocationView::new),
            created_at: device.created_at,
            last_seen_at: device.last_seen_at,
            can_delete_other_devices: device.can_delete_other_devices,
            can_update_other_devices: device.can_update_other_devices,
            current: device.id == acting,
            key_bound: device.dpop_jkt.is_some(),
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct VerifiedView<'a> {
    pub(crate) valid: bool,
    pub(crate) user_id: &'a str,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub(crate) device_id: DeviceId,
    #[serde(serialize_with = "rfc3339")]
    pub(crate) expires_at: DateTime<Utc>,
    /// For a key-bound device (SPEC §9, RFC 7662 style): `{"jkt": <thumbprint>}`, the key
    /// whose proofs must come with the token. **`valid: true` for such a token means only
    /// that the token is genuine: a service that trusts verify must check the request's
    /// DPoP proof against `cnf.jkt` itself.**
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cnf: Option<ConfirmationView<'a>>,
}

/// The key a token is bound to (RFC 7800 `cnf`, with RFC 9449's `jkt`).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ConfirmationView<'a> {
    /// The RFC 7638 thumbprint of the device's key.
    pub(crate) jkt: &'a str,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct RevokedView {
    pub(crate) revoked: u64,
}

/// What a cookie login or refresh answers instead of a token pair: the tokens are in the
/// `Set-Cookie` headers, out of script's reach.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct CookieSessionView {
    pub(crate) token_type: &'static str,
    pub(crate) expires_in: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub(crate) device_id: DeviceId,
}
