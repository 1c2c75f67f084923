//! How a [`TrustedDevices`] is put together: the builder, each setter naming its default,
//! and rule H's choice of a history.

use std::fmt;
use std::sync::Arc;

use chrono::TimeDelta;

use crate::audit::AuditLog;
use crate::cache::{CachedDevices, DEFAULT_DEVICE_CACHE_CAPACITY, RevocationFeed};
use crate::clock::{Clock, SystemClock};
use crate::dpop::{MemoryProofReplayCache, ProofReplayCache};
use crate::events::{EventHook, HookErrorReporter, report_to_stderr};
use crate::geolocation::{Geolocator, Timer};
use crate::memory::{MemoryDeviceRepository, MemoryTokenStore};
use crate::policy::Policy;
use crate::random::{OsRandom, RandomSource};
use crate::rate_limit::{MemoryRateLimiter, RateLimiter};
use crate::store::{DeviceRepository, TokenStore};
use crate::token::{AccessTokenCodec, KeyRing};

use super::filing_windows::FilingWindows;
use super::{Inner, TrustedDevices, dpop, rate_limits};

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
