//! What the service counts, through the `metrics` facade: an application installs any
//! recorder (the examples export Prometheus text at `/metrics`), or none, and then a count
//! costs a load and a branch. Names and labels are stable; no label holds a user, device
//! or address, so the number of series stays bounded.
//!
//! | counter | labels |
//! |---|---|
//! | `trusted_devices_logins_total` | |
//! | `trusted_devices_logins_rejected_total` | `reason` (`too_many_devices`) |
//! | `trusted_devices_refreshes_total` | |
//! | `trusted_devices_refresh_reuse_total` | |
//! | `trusted_devices_revocations_total` | `reason` ([`RevokeReason::label`]) |
//! | `trusted_devices_device_updates_total` | |
//! | `trusted_devices_rate_limited_total` | `bucket` (`login_ip`, `login_user`, ...) |
//! | `trusted_devices_storage_errors_total` | |
//! | `trusted_devices_device_cache_total` | `result` (`hit`, `miss`, `bypass`) |
//!
//! [`RevokeReason::label`]: crate::RevokeReason::label

use crate::events::Event;

/// Counts an event.
pub(crate) fn count_event(event: &Event) {
    match event {
        Event::DeviceCreated { .. } => {
            metrics::counter!("trusted_devices_logins_total").increment(1)
        }
        Event::LoginRejected { reason, .. } => {
            metrics::counter!("trusted_devices_logins_rejected_total", "reason" => reason.label())
                .increment(1);
        }
        Event::RefreshReuseDetected { .. } => {
            metrics::counter!("trusted_devices_refresh_reuse_total").increment(1);
        }
        Event::DeviceRevoked { reason, .. } => {
            metrics::counter!("trusted_devices_revocations_total", "reason" => reason.label())
                .increment(1);
        }
        Event::DeviceUpdated { .. } => {
            metrics::counter!("trusted_devices_device_updates_total").increment(1);
        }
        Event::RateLimited { bucket, .. } => {
            metrics::counter!("trusted_devices_rate_limited_total", "bucket" => bucket.name())
                .increment(1);
        }
        Event::ProofRefused { reason, .. } => {
            metrics::counter!("trusted_devices_dpop_refused_total", "reason" => *reason)
                .increment(1);
        }
    }
}

/// Counts a refresh that issued a pair.
pub(crate) fn count_refresh() {
    metrics::counter!("trusted_devices_refreshes_total").increment(1);
}

/// Counts a storage failure that reached the service's caller.
pub(crate) fn count_storage_error() {
    metrics::counter!("trusted_devices_storage_errors_total").increment(1);
}

/// How the device cache answered a read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CacheRead {
    /// From memory.
    Hit,
    /// From storage, then kept.
    Miss,
    /// From storage, the cache not trusted (feed down) or off.
    Bypass,
}

/// Counts a device cache read. Each label is a literal, so that the macro builds its key
/// once, statically: this runs on every authenticated request, and a label taken from a
/// variable allocated its key each time.
pub(crate) fn count_cache(read: CacheRead) {
    match read {
        CacheRead::Hit => {
            metrics::counter!("trusted_devices_device_cache_total", "result" => "hit").increment(1);
        }
        CacheRead::Miss => {
            metrics::counter!("trusted_devices_device_cache_total", "result" => "miss")
                .increment(1);
        }
        CacheRead::Bypass => {
            metrics::counter!("trusted_devices_device_cache_total", "result" => "bypass")
                .increment(1);
        }
    }
}
