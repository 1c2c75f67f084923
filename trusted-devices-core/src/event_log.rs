//! Rule E: every event is also a `tracing` event (target `trusted_devices`), so security
//! events show in an application's logs without a hook. Fields: the user, the device, the
//! client address the device was last seen from; never a token or secret (events hold none).
//!
//! Levels: a reused refresh token (likely theft) is `warn`; everything else is `info`.

use crate::events::Event;

/// The `tracing` target of every security event.
pub const TARGET: &str = "trusted_devices";

pub(crate) fn trace(event: &Event) {
    match event {
        Event::DeviceCreated {
            device, signals, ..
        } => tracing::info!(
            target: TARGET,
            event = "device_created",
            user = %device.user_id,
            device = %device.id,
            client_ip = ?device.ip,
            location = ?device.location.as_ref().map(ToString::to_string),
            signals = ?signals.names(),
            "login created a device"
        ),
        Event::DeviceRevoked { device, reason } => tracing::info!(
            target: TARGET,
            event = "device_revoked",
            user = %device.user_id,
            device = %device.id,
            client_ip = ?device.last_ip,
            ?reason,
            "device revoked"
        ),
        Event::DeviceUpdated { device, by, .. } => tracing::info!(
            target: TARGET,
            event = "device_updated",
            user = %device.user_id,
            device = %device.id,
            by = %by,
            client_ip = ?device.last_ip,
            "device updated"
        ),
        Event::RefreshReuseDetected { user_id, device_id } => tracing::warn!(
            target: TARGET,
            event = "refresh_reuse_detected",
            user = %user_id,
            device = %device_id,
            "a consumed refresh token was presented again; revoking the device"
        ),
        Event::LoginRejected { user_id, reason } => tracing::info!(
            target: TARGET,
            event = "login_rejected",
            user = %user_id,
            ?reason,
            "login refused"
        ),
        Event::RateLimited {
            bucket, client_ip, ..
        } => tracing::info!(
            target: TARGET,
            event = "rate_limited",
            bucket = bucket.name(),
            client_ip = ?client_ip,
            "request over a rate limit"
        ),
        Event::ProofRefused { device, reason } => tracing::warn!(
            target: TARGET,
            event = "dpop_refused",
            user = %device.user_id,
            device = %device.id,
            reason,
            "a key-bound device's token came without its key, or with a refused proof"
        ),
    }
}
