use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{DeviceId, DeviceName, DevicePatch, Location, Metadata, Thumbprint, UserId};

/// One logged-in client installation (SPEC §2), as stored by a
/// [`DeviceRepository`](crate::DeviceRepository).
///
/// Plain data: repositories build it from their rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Primary key, a UUID v7.
    pub id: DeviceId,
    /// The owner.
    pub user_id: UserId,
    /// Display name.
    pub name: DeviceName,
    /// The User-Agent at login, cut to 512 bytes.
    pub user_agent: String,
    /// The address at login.
    pub ip: Option<IpAddr>,
    /// The most recent address seen (written with `last_seen_at`).
    pub last_ip: Option<IpAddr>,
    /// Where the login came from, if a geolocator knew.
    pub location: Option<Location>,
    /// When the device logged in.
    pub created_at: DateTime<Utc>,
    /// When the device was last seen, written at most once per `touch_interval`.
    pub last_seen_at: DateTime<Utc>,
    /// May this device delete other devices of the user.
    pub can_delete_other_devices: bool,
    /// May this device rename or change the permissions of other devices of the user.
    pub can_update_other_devices: bool,
    /// Application context.
    pub metadata: Metadata,
    /// The sliding deadline: no refresh by then ends the session. Each refresh moves it.
    pub idle_expires_at: DateTime<Utc>,
    /// The absolute end of the session (`session_max_lifetime`), never moved.
    pub session_expires_at: Option<DateTime<Utc>>,
    /// The key the device holds (SPEC §9): the RFC 7638 thumbprint of the public key its
    /// login proved with DPoP, fixed for the device's life. `None`: a bearer device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<Thumbprint>,
}

impl Device {
    /// The earlier of the idle and the absolute deadline: at that instant the session ends.
    #[must_use]
    pub fn deadline(&self) -> DateTime<Utc> {
        self.within_session(self.idle_expires_at)
    }

    /// `instant`, or the session's absolute end if that comes first: nothing issued for this
    /// device (an access token, a refresh token) may outlive its session.
    #[must_use]
    pub fn within_session(&self, instant: DateTime<Utc>) -> DateTime<Utc> {
        self.session_expires_at
            .map_or(instant, |end| end.min(instant))
    }

    /// Whether the session has ended at `now` (a deadline is passed once `now` reaches it).
    #[must_use]
    pub fn has_ended(&self, now: DateTime<Utc>) -> bool {
        now >= self.deadline()
    }

    /// Applies a patch's fields. Authorization is the policy's job, not this one's.
    pub fn apply(&mut self, patch: &DevicePatch) {
        if let Some(name) = &patch.name {
            self.name = name.clone();
        }
        if let Some(flag) = patch.can_delete_other_devices {
            self.can_delete_other_devices = flag;
        }
        if let Some(flag) = patch.can_update_other_devices {
            self.can_update_other_devices = flag;
        }
    }
}
