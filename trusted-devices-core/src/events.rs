//! Rule E: typed events and the hook that receives them.

use std::net::IpAddr;

use async_trait::async_trait;

use crate::domain::{Device, DeviceId, Software, UserId};
use crate::error::BoxError;
use crate::rate_limit::Bucket;
use crate::risk::RiskSignals;

/// Why a device was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokeReason {
    /// The device logged itself out.
    Logout,
    /// Another device of the user revoked it.
    RevokedBy(DeviceId),
    /// A login at `max_devices` evicted it.
    Evicted,
    /// A login with `single_login` replaced it.
    SingleLogin,
    /// One of its refresh tokens was reused after the grace.
    RefreshReuse,
    /// Its idle or absolute deadline passed.
    Expired,
    /// The application revoked it (rule U: a password change, a reset, an administrator's
    /// decision), with the application's own short label for why (`"password_changed"`).
    RevokedByApplication {
        /// The application's label.
        reason: &'static str,
    },
}

impl RevokeReason {
    /// A short stable name, for metrics and the history: `logout`, `revoked_by_device`,
    /// `evicted`, `single_login`, `refresh_reuse`, `expired`, `application`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::RevokedBy(_) => "revoked_by_device",
            Self::Evicted => "evicted",
            Self::SingleLogin => "single_login",
            Self::RefreshReuse => "refresh_reuse",
            Self::Expired => "expired",
            Self::RevokedByApplication { .. } => "application",
        }
    }
}

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginRejection {
    /// The user held `max_devices` and the mode is `Reject`.
    TooManyDevices,
    /// The password was right but the login's DPoP proof was then refused (a replayed
    /// proof, SPEC §9): filed so that a right password never goes unrecorded.
    ProofRefused,
}

impl LoginRejection {
    /// A short stable name: `too_many_devices`, `dpop_proof_refused`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::TooManyDevices => "too_many_devices",
            Self::ProofRefused => "dpop_proof_refused",
        }
    }
}

/// Something that happened to a user's devices.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A login created a device.
    DeviceCreated {
        /// The new device.
        device: Device,
        /// Its browser and OS, as the login's User-Agent and client hints named them.
        software: Software,
        /// What is new about it against the user's other live devices (rule G).
        signals: RiskSignals,
    },
    /// A device was revoked; its tokens are dead.
    DeviceRevoked {
        /// The device as it was.
        device: Device,
        /// Why.
        reason: RevokeReason,
    },
    /// A device was renamed or its permission flags changed (rule A allowed it).
    DeviceUpdated {
        /// The device before the change (boxed: the event stays the size of the others).
        before: Box<Device>,
        /// The device after it.
        device: Device,
        /// The acting device (the device itself, for a rename of its own).
        by: DeviceId,
    },
    /// A consumed refresh token was presented after the grace; the device is being revoked.
    RefreshReuseDetected {
        /// The owner.
        user_id: UserId,
        /// The device.
        device_id: DeviceId,
    },
    /// A login was refused.
    LoginRejected {
        /// Who tried.
        user_id: UserId,
        /// Why.
        reason: LoginRejection,
    },
    /// A request went over a rule K limit and was refused with 429; nothing was revoked.
    RateLimited {
        /// The limit.
        bucket: Bucket,
        /// The client's address, when known.
        client_ip: Option<IpAddr>,
        /// For a login, the user whose name was tried (when it is a valid user id).
        user_id: Option<UserId>,
    },
    /// A key-bound device's token came without the device's key, or with a proof that was
    /// refused (SPEC §9); nothing was done. Reported at most once per device per
    /// `dpop_proof_age`, so that a stolen token cannot flood the history.
    ProofRefused {
        /// The device whose token it was.
        device: Device,
        /// Why ([`ProofError::reason`](crate::dpop::ProofError::reason)).
        reason: &'static str,
    },
}

/// Receives every [`Event`]. A failing hook is reported, never fails the request.
///
/// The hook is awaited inline: one that does slow work (mail, webhooks) should hand the
/// event to a queue or task of its own.
#[async_trait]
pub trait EventHook: Send + Sync {
    /// Handles one event.
    async fn on_event(&self, event: &Event) -> Result<(), BoxError>;
}

/// Where a failing hook is reported: a function, so that the core needs no logging crate.
/// The default writes one line to standard error; adapters pass one that uses `tracing`.
pub type HookErrorReporter = fn(&Event, &BoxError);

pub(crate) fn report_to_stderr(event: &Event, error: &BoxError) {
    let kind = match event {
        Event::DeviceCreated { .. } => "DeviceCreated",
        Event::DeviceRevoked { .. } => "DeviceRevoked",
        Event::DeviceUpdated { .. } => "DeviceUpdated",
        Event::RefreshReuseDetected { .. } => "RefreshReuseDetected",
        Event::LoginRejected { .. } => "LoginRejected",
        Event::RateLimited { .. } => "RateLimited",
        Event::ProofRefused { .. } => "ProofRefused",
    };
    eprintln!("trusted-devices: event hook failed on {kind}: {error}");
}
