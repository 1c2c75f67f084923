//! One line of a user's history (rule H), and how an event becomes one.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{Device, DeviceId, Location, UserId};
use crate::events::{Event, RevokeReason};
use crate::random::{self, RandomSource};

/// What happened (rule H). Stored by name ([`name`](Self::name)), so a store never needs
/// to know the enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditKind {
    /// A login created a device.
    Login,
    /// A login was refused: the device limit or a rate limit.
    LoginRejected,
    /// A consumed refresh token came back after the grace (likely theft).
    RefreshReuse,
    /// A device was revoked: by itself (logout), by another device, by a single login, by
    /// reuse detection, or by the application (rule U).
    DeviceRevoked,
    /// A login at `max_devices` evicted a device.
    DeviceEvicted,
    /// A device's session ended and cleanup removed it.
    DeviceExpired,
    /// A device was renamed.
    DeviceRenamed,
    /// A device's permission flags changed.
    PermissionsChanged,
    /// A key-bound device's token came without its key or with a refused proof (SPEC §9).
    ProofRefused,
}

impl AuditKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 9] = [
        Self::Login,
        Self::LoginRejected,
        Self::RefreshReuse,
        Self::DeviceRevoked,
        Self::DeviceEvicted,
        Self::DeviceExpired,
        Self::DeviceRenamed,
        Self::PermissionsChanged,
        Self::ProofRefused,
    ];

    /// The stored and shown name: `login`, `device_revoked`...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginRejected => "login_rejected",
            Self::RefreshReuse => "refresh_reuse",
            Self::DeviceRevoked => "device_revoked",
            Self::DeviceEvicted => "device_evicted",
            Self::DeviceExpired => "device_expired",
            Self::DeviceRenamed => "device_renamed",
            Self::PermissionsChanged => "permissions_changed",
            Self::ProofRefused => "proof_refused",
        }
    }

    /// The kind of a stored name; `None` for a name this version does not know.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// Where an entry sits in its user's history: entries are read newest first, by `at`
/// then `id`. Stores compare positions; clients see them as opaque cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuditPosition {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The entry's id (a UUID v7), breaking ties.
    pub id: Uuid,
}

/// One security event of a user (rule H): never a token or a secret. It outlives the
/// devices it names, so it keeps their names as they were.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The entry's id, a UUID v7.
    pub id: Uuid,
    /// Whose history.
    pub user_id: UserId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: AuditKind,
    /// The device that acted, when one did.
    pub actor: Option<DeviceId>,
    /// The device acted on, when there is one.
    pub target: Option<DeviceId>,
    /// The target device's name at the time.
    pub target_name: Option<String>,
    /// More about it, short and fixed in form: the revocation's reason (`logout`,
    /// `revoked_by_device`, `single_login`, `refresh_reuse`, `application:<label>`), the
    /// refusal's (`too_many_devices`, `rate_limited`), the new name, the flags now held.
    pub detail: Option<String>,
    /// The address of the request that caused it, when known.
    pub client_ip: Option<IpAddr>,
    /// Where that request came from, when known.
    pub location: Option<Location>,
}

impl AuditEntry {
    /// Its place in the history.
    #[must_use]
    pub fn position(&self) -> AuditPosition {
        AuditPosition {
            at: self.at,
            id: self.id,
        }
    }
}

/// Who caused an event: the acting device and the request's address and location.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Cause {
    pub(crate) device: Option<DeviceId>,
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) location: Option<Location>,
}

impl Cause {
    /// A device acting from the address its request came from.
    pub(crate) fn device(device: &Device, client_ip: Option<IpAddr>) -> Self {
        Self {
            device: Some(device.id),
            client_ip: client_ip.or(device.last_ip),
            location: device.location.clone(),
        }
    }
}

/// The entries an event makes, as of `at` (none for events that are not history: a rate
/// limit on anything but a login, for instance).
///
/// Ids are UUID v7 whose first random bits are `sequence`'s next values, so that entries of
/// one instant sort in the order this server wrote them (RFC 9562's counter method).
pub(crate) fn entries_for(
    event: &Event,
    cause: &Cause,
    at: DateTime<Utc>,
    random: &dyn RandomSource,
    sequence: &AtomicU32,
) -> Vec<AuditEntry> {
    let entry =
        |user_id: &UserId, kind: AuditKind, target: Option<&Device>, detail: Option<String>| {
            let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
            let mut entropy: [u8; 10] = random::bytes(random);
            let next = sequence.fetch_add(1, Ordering::Relaxed).to_be_bytes();
            if let Some(head) = entropy.get_mut(..4) {
                head.copy_from_slice(&next);
            }
            AuditEntry {
                id: uuid::Builder::from_unix_timestamp_millis(millis, &entropy).into_uuid(),
                user_id: user_id.clone(),
                at,
                kind,
                actor: cause.device,
                target: target.map(|device| device.id),
                target_name: target.map(|device| device.name.as_str().to_owned()),
                detail,
                client_ip: cause.client_ip,
                location: cause.location.clone(),
            }
        };
    match event {
        Event::DeviceCreated { device, .. } => {
            vec![entry(&device.user_id, AuditKind::Login, Some(device), None)]
        }
        Event::LoginRejected { user_id, reason } => {
            let detail = Some(reason.label().to_owned());
            vec![entry(user_id, AuditKind::LoginRejected, None, detail)]
        }
        Event::ProofRefused { device, reason } => {
            let detail = Some((*reason).to_owned());
            vec![entry(
                &device.user_id,
                AuditKind::ProofRefused,
                Some(device),
                detail,
            )]
        }
        Event::RateLimited {
            user_id: Some(user_id),
            bucket,
            ..
        } if bucket.is_login() => vec![entry(
            user_id,
            AuditKind::LoginRejected,
            None,
            Some("rate_limited".to_owned()),
        )],
        Event::RefreshReuseDetected { user_id, device_id } => {
            let mut reuse = entry(user_id, AuditKind::RefreshReuse, None, None);
            reuse.target = Some(*device_id);
            vec![reuse]
        }
        Event::DeviceRevoked { device, reason } => {
            let (kind, detail) = match reason {
                RevokeReason::Evicted => (AuditKind::DeviceEvicted, None),
                RevokeReason::Expired => (AuditKind::DeviceExpired, None),
                RevokeReason::RevokedByApplication { reason } => (
                    AuditKind::DeviceRevoked,
                    Some(format!("application:{reason}")),
                ),
                other => (AuditKind::DeviceRevoked, Some(other.label().to_owned())),
            };
            vec![entry(&device.user_id, kind, Some(device), detail)]
        }
        Event::DeviceUpdated { before, device, .. } => {
            let mut entries = Vec::new();
            if before.name != device.name {
                let detail = Some(device.name.as_str().to_owned());
                // Named as it was, so that the history says what was renamed.
                entries.push(entry(
                    &device.user_id,
                    AuditKind::DeviceRenamed,
                    Some(before),
                    detail,
                ));
            }
            let flags = |d: &Device| (d.can_delete_other_devices, d.can_update_other_devices);
            if flags(before) != flags(device) {
                let detail = format!(
                    "can_delete_other_devices={}, can_update_other_devices={}",
                    device.can_delete_other_devices, device.can_update_other_devices
                );
                entries.push(entry(
                    &device.user_id,
                    AuditKind::PermissionsChanged,
                    Some(device),
                    Some(detail),
                ));
            }
            entries
        }
        _ => Vec::new(),
    }
}
