//! [`TrustedDevices`]: every rule of SPEC §4 over the injected stores, clock and randomness.

mod access;
mod activity;
mod builder;
mod cleanup;
mod dpop;
mod filing_windows;
mod login;
mod manage;
mod presented;
mod rate_limits;
mod refresh;
mod sign_out;

pub use access::{Authenticated, Renewal, Verified};
pub use activity::ActivityPage;
pub use builder::{History, TrustedDevicesBuilder};
pub use cleanup::{CLEANUP_BATCH, CLEANUP_REST_FACTOR, CleanupReport};
pub use login::{LoginAttempt, LoginOutcome};
pub use presented::{LoginRequest, Presented, Via};

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audit::{AuditLog, Cause, entries_for};
use crate::clock::{self, Clock};
use crate::domain::{Device, DeviceId};
use crate::dpop::ProofReplayCache;
use crate::events::{Event, EventHook, HookErrorReporter, RevokeReason};
use crate::geolocation::{Geolocator, Timer};
use crate::policy::Policy;
use crate::random::{self, RandomSource};
use crate::rate_limit::{RateKey, RateLimiter};
use crate::store::{DeviceRepository, Sighting, TokenStore};
use crate::token::{
    AccessClaims, AccessTokenCodec, Confirmation, RefreshToken, TokenPair, Transport, b64_encode,
};
use filing_windows::FilingWindows;

/// The trusted-device service: login, authenticate, verify, refresh, list, get, update,
/// delete, logout, revoke-others and cleanup. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct TrustedDevices {
    inner: Arc<Inner>,
}

struct Inner {
    policy: Policy,
    codec: AccessTokenCodec,
    devices: Arc<dyn DeviceRepository>,
    tokens: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    hook: Option<Arc<dyn EventHook>>,
    report_hook_error: HookErrorReporter,
    geolocator: Option<Arc<dyn Geolocator>>,
    geolocation_timeout: Option<(std::time::Duration, Arc<dyn Timer>)>,
    rate_limiter: Arc<dyn RateLimiter>,
    audit: Option<Arc<dyn AuditLog>>,
    /// The ids of DPoP proofs used within their window (SPEC §9).
    proof_replays: Arc<dyn ProofReplayCache>,
    /// Which devices' refused proofs were filed lately (rule H, bounded).
    proof_refusals: FilingWindows<DeviceId>,
    /// Orders the history entries this server writes within one millisecond.
    audit_sequence: std::sync::atomic::AtomicU32,
    /// Until when each limited login bucket is known to be limiting (rule H files a
    /// limit once, when it begins).
    limiting: FilingWindows<RateKey>,
}

impl fmt::Debug for TrustedDevices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedDevices")
            .field("policy", &self.inner.policy)
            .field("keys", self.inner.codec.keys())
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl TrustedDevices {
    /// The policy in force.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The device repository.
    #[must_use]
    pub fn devices(&self) -> &Arc<dyn DeviceRepository> {
        &self.inner.devices
    }

    /// The token store.
    #[must_use]
    pub fn tokens(&self) -> &Arc<dyn TokenStore> {
        &self.inner.tokens
    }

    /// The clock's time, truncated to microseconds so every backend stores it exactly.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        clock::to_micros(self.inner.clock.now())
    }

    /// Signs an access token and pairs it with `refresh_token`. The access token expires
    /// after `access_token_ttl`, or at the session's absolute end if that comes first.
    fn issue_pair(
        &self,
        device: &Device,
        refresh_token: RefreshToken,
        now: DateTime<Utc>,
    ) -> TokenPair {
        let (access_token, expires) = self.sign_access(device, refresh_token.transport(), now);
        TokenPair {
            access_token,
            refresh_token,
            token_type: if device.dpop_jkt.is_some() {
                "DPoP"
            } else {
                "Bearer"
            },
            expires_in: whole_seconds_between(now, expires),
            device_id: device.id,
        }
    }

    /// A new access token for `device` on `transport`, never outliving the session; and
    /// when it expires (whole seconds).
    fn sign_access(
        &self,
        device: &Device,
        transport: Transport,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        let policy = &self.inner.policy;
        let expires = device.within_session(now + policy.access_token_ttl);
        let jti: [u8; 16] = random::bytes(self.inner.random.as_ref());
        let claims = AccessClaims {
            sub: device.user_id.as_str().to_owned(),
            did: device.id.to_string(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            jti: b64_encode(&jti),
            transport,
            cnf: device.dpop_jkt.as_ref().map(|jkt| Confirmation {
                jkt: jkt.as_str().to_owned(),
            }),
        };
        let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or(expires);
        (self.inner.codec.sign(&claims), expires_at)
    }

    /// Completes the revocation of devices already deleted from the repository: removes
    /// their tokens and emits one `DeviceRevoked` each.
    ///
    /// Deleting the device is the revocation: authenticate and refresh both require the
    /// device, so its tokens are refused from that moment. Removing them is hygiene, done
    /// best-effort so that a token-store failure cannot turn a completed revocation into an
    /// error; records left behind expire and go with `cleanup`.
    async fn finish_revocation(&self, revoked: Vec<Device>, reason: RevokeReason, cause: &Cause) {
        if revoked.is_empty() {
            return;
        }
        let ids: Vec<DeviceId> = revoked.iter().map(|device| device.id).collect();
        self.discard_tokens_of(&ids).await;
        for device in revoked {
            self.emit(Event::DeviceRevoked { device, reason }, cause)
                .await;
        }
    }

    /// A request seen now, throttled by `touch_interval`.
    fn sighting(&self, now: DateTime<Utc>, ip: Option<std::net::IpAddr>) -> Sighting {
        Sighting {
            at: now,
            ip,
            stale_before: now - self.inner.policy.touch_interval,
        }
    }

    /// Best effort: removes the tokens of devices that do not exist (never created, or
    /// revoked). Such tokens are refused anyway, so a failure here loses nothing.
    async fn discard_tokens_of(&self, devices: &[DeviceId]) {
        let _ = self.inner.tokens.revoke_devices(devices).await;
    }

    /// Rules E and H: traces `event`, hands it to the hook, and appends what it means to
    /// the audit log, as caused by `cause`. None of it can fail the request.
    async fn emit(&self, event: Event, cause: &Cause) {
        self.announce(&event).await;
        self.file(&event, cause).await;
    }

    /// Rule E: traces `event` and hands it to the hook.
    async fn announce(&self, event: &Event) {
        crate::event_log::trace(event);
        crate::telemetry::count_event(event);
        if let Some(hook) = &self.inner.hook
            && let Err(error) = hook.on_event(event).await
        {
            (self.inner.report_hook_error)(event, &error);
        }
    }

    /// Rule H: appends what `event` means to the audit log, as caused by `cause`.
    async fn file(&self, event: &Event, cause: &Cause) {
        let Some(audit) = &self.inner.audit else {
            return;
        };
        let sequence = &self.inner.audit_sequence;
        for entry in entries_for(
            event,
            cause,
            self.now(),
            self.inner.random.as_ref(),
            sequence,
        ) {
            if let Err(error) = audit.append(&entry).await {
                crate::telemetry::count_storage_error();
                tracing::warn!(
                    target: crate::event_log::TARGET,
                    %error,
                    user = %entry.user_id,
                    kind = entry.kind.name(),
                    "audit log: entry lost"
                );
            }
        }
    }
}

/// Whole seconds from `now` to `expires`, as the JWT's `iat` and `exp` count them.
pub(crate) fn whole_seconds_between(now: DateTime<Utc>, expires: DateTime<Utc>) -> u64 {
    u64::try_from(expires.timestamp() - now.timestamp()).unwrap_or(0)
}
