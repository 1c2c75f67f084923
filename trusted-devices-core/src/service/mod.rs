//! [`TrustedDevices`]: every rule of SPEC §4 over the injected stores, clock and randomness.

mod access;
mod activity;
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
pub use cleanup::{CLEANUP_BATCH, CLEANUP_REST_FACTOR, CleanupReport};
pub use login::{LoginAttempt, LoginOutcome};
pub use presented::{LoginRequest, Presented, Via};

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::{AuditLog, Cause, entries_for};
use crate::cache::{CachedDevices, DEFAULT_DEVICE_CACHE_CAPACITY, RevocationFeed};
use crate::clock::{self, Clock, SystemClock};
use crate::domain::{Device, DeviceId};
use crate::dpop::{MemoryProofReplayCache, ProofReplayCache};
use crate::events::{Event, EventHook, HookErrorReporter, RevokeReason, report_to_stderr};
use crate::geolocation::{Geolocator, Timer};
use crate::memory::{MemoryDeviceRepository, MemoryTokenStore};
use crate::policy::Policy;
use crate::random::{self, OsRandom, RandomSource};
use crate::rate_limit::{MemoryRateLimiter, RateKey, RateLimiter};
use crate::store::{DeviceRepository, Sighting, TokenStore};
use crate::token::{
    AccessClaims, AccessTokenCodec, Confirmation, KeyRing, RefreshToken, TokenPair, Transport,
    b64_encode,
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
    /// A builder: only the keys are required; everything else has a named default.
    pub fn builder(keys: KeyRing) -> TrustedDevicesBuilder {
        TrustedDevicesBuilder {
            keys,
            policy: Policy::default(),
            devices: None,
            tokens: None,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            hook: None,
            report_hook_error: report_to_stderr,
            geolocator: None,
            geolocation_timeout: None,
            feed: None,
            cache_capacity: DEFAULT_DEVICE_CACHE_CAPACITY,
            rate_limiter: None,
            audit: None,
            proof_replays: None,
        }
    }

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

/// Builds a [`TrustedDevices`]; every setter names its default.
#[must_use]
pub struct TrustedDevicesBuilder {
    keys: KeyRing,
    policy: Policy,
    devices: Option<Arc<dyn DeviceRepository>>,
    tokens: Option<Arc<dyn TokenStore>>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    hook: Option<Arc<dyn EventHook>>,
    report_hook_error: HookErrorReporter,
    geolocator: Option<Arc<dyn Geolocator>>,
    geolocation_timeout: Option<(std::time::Duration, Arc<dyn Timer>)>,
    feed: Option<Arc<dyn RevocationFeed>>,
    cache_capacity: usize,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    audit: Option<Arc<dyn AuditLog>>,
    proof_replays: Option<Arc<dyn ProofReplayCache>>,
}

impl TrustedDevicesBuilder {
    /// The policy [default: `Policy::default()`].
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }
    /// Where devices live [default: a new `MemoryDeviceRepository`].
    pub fn devices(mut self, devices: Arc<dyn DeviceRepository>) -> Self {
        self.devices = Some(devices);
        self
    }
    /// Where refresh tokens live [default: a new `MemoryTokenStore`].
    pub fn tokens(mut self, tokens: Arc<dyn TokenStore>) -> Self {
        self.tokens = Some(tokens);
        self
    }
    /// The source of time [default: `SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// The source of randomness [default: `OsRandom`].
    pub fn random(mut self, random: Arc<dyn RandomSource>) -> Self {
        self.random = random;
        self
    }
    /// The receiver of events [default: none].
    pub fn hook(mut self, hook: Arc<dyn EventHook>) -> Self {
        self.hook = Some(hook);
        self
    }
    /// Where a failing hook is reported [default: one line on standard error].
    pub fn on_hook_error(mut self, report: HookErrorReporter) -> Self {
        self.report_hook_error = report;
        self
    }
    /// The geolocator of login addresses [default: none, devices have no location].
    pub fn geolocator(mut self, geolocator: Arc<dyn Geolocator>) -> Self {
        self.geolocator = Some(geolocator);
        self
    }

    /// Abandons a geolocation lookup after `timeout`, measured by `timer`; the device is
    /// then created without a location [default: no timeout, since the core has no timer of
    /// its own]. With tokio: `.geolocation_timeout(d, Arc::new(|d| Box::pin(tokio::time::sleep(d)) as Sleep))`.
    pub fn geolocation_timeout(
        mut self,
        timeout: std::time::Duration,
        timer: Arc<dyn Timer>,
    ) -> Self {
        self.geolocation_timeout = Some((timeout, timer));
        self
    }

    /// Rule T: keeps recently authenticated devices in memory, each for at most the
    /// policy's `device_cache_ttl`, kept true across servers by `feed` [default: no feed, no
    /// cache: storage is read on every request]. Every server sharing a storage must use a
    /// feed through it (PostgreSQL `LISTEN/NOTIFY`, Redis pub/sub); [`LocalFeed`] serves one
    /// process. A `device_cache_ttl` of zero turns the cache off whatever the feed.
    ///
    /// [`LocalFeed`]: crate::cache::LocalFeed
    pub fn revocation_feed(mut self, feed: Arc<dyn RevocationFeed>) -> Self {
        self.feed = Some(feed);
        self
    }

    /// The most devices the cache holds [default: `DEFAULT_DEVICE_CACHE_CAPACITY`, 100,000].
    pub fn device_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Where rule K's buckets live [default: a [`MemoryRateLimiter`] of this process;
    /// several servers share theirs through a shared limiter such as the Redis crate's].
    /// The limits themselves are policy settings (`rate_limits`, `login_rate_per_ip`...).
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Keeps each user's security history there (rule H): shorthand for
    /// `.history(History::Kept(audit))`. Entries older than the policy's `audit_retention`
    /// are deleted by cleanup. Every store crate's store is also an audit log
    /// (`SqliteStore`, `PostgresStore`, `RedisStore`): pass the same store.
    pub fn audit_log(mut self, audit: Arc<dyn AuditLog>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Whether the service keeps each user's security history (rule H) [default:
    /// [`History::NotKept`], which `GET /devices/activity` and the page report in words as
    /// "no history kept", never as an empty history].
    pub fn history(mut self, history: History) -> Self {
        self.audit = match history {
            History::Kept(audit) => Some(audit),
            History::NotKept => None,
        };
        self
    }

    /// Where the ids of used DPoP proofs are kept for their window (SPEC §9) [default: a
    /// [`MemoryProofReplayCache`] of this process; several servers share one through Redis,
    /// or a proof replayed on another server passes there].
    ///
    /// [`MemoryProofReplayCache`]: crate::dpop::MemoryProofReplayCache
    pub fn proof_replay_cache(mut self, cache: Arc<dyn ProofReplayCache>) -> Self {
        self.proof_replays = Some(cache);
        self
    }

    /// The service.
    pub fn build(self) -> TrustedDevices {
        let devices = self
            .devices
            .unwrap_or_else(|| Arc::new(MemoryDeviceRepository::new()));
        let ttl = self.policy.device_cache_ttl;
        let devices: Arc<dyn DeviceRepository> = match self.feed {
            Some(feed) if ttl > TimeDelta::zero() => Arc::new(CachedDevices::new(
                devices,
                feed,
                self.clock.clone(),
                ttl,
                self.cache_capacity,
            )),
            _ => devices,
        };
        TrustedDevices {
            inner: Arc::new(Inner {
                policy: self.policy,
                codec: AccessTokenCodec::new(self.keys),
                devices,
                tokens: self
                    .tokens
                    .unwrap_or_else(|| Arc::new(MemoryTokenStore::new())),
                clock: self.clock,
                random: self.random,
                hook: self.hook,
                report_hook_error: self.report_hook_error,
                geolocator: self.geolocator,
                geolocation_timeout: self.geolocation_timeout,
                rate_limiter: self
                    .rate_limiter
                    .unwrap_or_else(|| Arc::new(MemoryRateLimiter::default())),
                audit: self.audit,
                proof_replays: self
                    .proof_replays
                    .unwrap_or_else(|| Arc::new(MemoryProofReplayCache::default())),
                proof_refusals: FilingWindows::new(dpop::REFUSALS_CAPACITY),
                audit_sequence: std::sync::atomic::AtomicU32::new(0),
                limiting: FilingWindows::new(rate_limits::LIMITING_CAPACITY),
            }),
        }
    }
}

/// Rule H's choice for [`TrustedDevicesBuilder::history`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum History {
    /// Each user's history is kept in this audit log.
    Kept(Arc<dyn AuditLog>),
    /// No history: the activity route answers `history_kept: false` with a note.
    #[default]
    NotKept,
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Kept(_) => "History::Kept",
            Self::NotKept => "History::NotKept",
        })
    }
}

/// Whole seconds from `now` to `expires`, as the JWT's `iat` and `exp` count them.
pub(crate) fn whole_seconds_between(now: DateTime<Utc>, expires: DateTime<Utc>) -> u64 {
    u64::try_from(expires.timestamp() - now.timestamp()).unwrap_or(0)
}
