//! Rule K: token buckets for login, refresh and verify, in memory for one server or in a
//! shared store (Redis) for several.
//!
//! The rule is one function, [`gcra`] (the generic cell rate algorithm: a token bucket
//! kept as one instant per key), written here and mirrored by each shared store's atomic
//! script; the stores only keep each bucket's instant. The in-memory limiter keeps those
//! instants in a bounded `quick_cache` rather than using `governor`: governor's keyed store
//! grows with every key until pruned and reads its own clock, where this one is bounded
//! and takes the service's injected clock like every other rule. A limit never revokes anything and
//! never refuses a device that holds a session: it slows requests down, it cannot lock an
//! account (see [`Bucket::LoginUser`]).

mod limit;
mod memory;

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::DeviceId;
use crate::error::StorageError;

pub use limit::RateLimit;
pub use memory::{KeyBytes, MEMORY_RATE_BYTES, MemoryRateLimiter};

/// Which limit a request counts against (SPEC §4 K).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Bucket {
    /// Logins from one client address.
    LoginIp,
    /// Logins to one user name from one client network (an IPv4 /24 or an IPv6 /64): a
    /// bucket over the name alone would let anyone lock its owner out by trying wrong
    /// passwords, so an attacker only ever empties the bucket of the network it uses.
    LoginUser,
    /// Logins to one user name from every network together: a coarser bound above
    /// [`LoginUser`](Self::LoginUser), so that many networks do not buy many guesses.
    LoginName,
    /// Refreshes from one client address.
    RefreshIp,
    /// Refreshes of one device. Only genuine refreshes count, so that tokens forged with a
    /// victim's device id cannot empty it.
    RefreshDevice,
    /// Verifications from one client address.
    VerifyIp,
}

impl Bucket {
    /// Whether it limits logins (a refusal then belongs to the user's history).
    #[must_use]
    pub fn is_login(self) -> bool {
        matches!(self, Self::LoginIp | Self::LoginUser | Self::LoginName)
    }

    /// The bucket's name in keys, logs and events: `login_ip`, `login_user`...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::LoginIp => "login_ip",
            Self::LoginUser => "login_user",
            Self::LoginName => "login_name",
            Self::RefreshIp => "refresh_ip",
            Self::RefreshDevice => "refresh_device",
            Self::VerifyIp => "verify_ip",
        }
    }
}

/// One bucket of one client, user or device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey {
    bucket: Bucket,
    subject: String,
}

impl RateKey {
    /// The bucket of a client address: an IPv4 address alone, an IPv6 address by its
    /// network of `ipv6_prefix` bits (the policy's `rate_limit_ipv6_prefix`). An
    /// IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) counts as its IPv4 address.
    #[must_use]
    pub fn client(bucket: Bucket, ip: IpAddr, ipv6_prefix: u8) -> Self {
        let ip = ip.to_canonical();
        let subject = match ip {
            IpAddr::V4(_) => ip.to_string(),
            IpAddr::V6(_) => prefix_of(ip, ipv6_prefix).to_string(),
        };
        Self { bucket, subject }
    }

    /// The [`Bucket::LoginUser`] bucket of `user_name` tried from `ip`'s network.
    #[must_use]
    pub fn login_user(user_name: &str, ip: Option<IpAddr>) -> Self {
        let network = ip.map_or_else(|| "unknown".to_owned(), |ip| network_of(ip).to_string());
        Self {
            bucket: Bucket::LoginUser,
            subject: format!("{network}|{user_name}"),
        }
    }

    /// The [`Bucket::LoginName`] bucket of `user_name`, from every network.
    #[must_use]
    pub fn login_name(user_name: &str) -> Self {
        Self {
            bucket: Bucket::LoginName,
            subject: user_name.to_owned(),
        }
    }

    /// The key rule H files a refusal of this bucket under: a name's per-network buckets
    /// and its coarser bucket are one run of limiting, filed once per window whatever the
    /// number of networks; other buckets are their own.
    #[must_use]
    pub fn filed_as(&self) -> Self {
        match self.bucket {
            Bucket::LoginUser => {
                // `network|name`: a network has no `|`, so the first one ends it.
                let name = self.subject.split_once('|').map_or("", |(_, name)| name);
                Self::login_name(name)
            }
            _ => self.clone(),
        }
    }

    /// The [`Bucket::RefreshDevice`] bucket of a device.
    #[must_use]
    pub fn device(device: DeviceId) -> Self {
        Self {
            bucket: Bucket::RefreshDevice,
            subject: device.to_string(),
        }
    }

    /// The same subject in another bucket.
    #[must_use]
    pub fn with_bucket(mut self, bucket: Bucket) -> Self {
        self.bucket = bucket;
        self
    }

    /// The bucket.
    #[must_use]
    pub fn bucket(&self) -> Bucket {
        self.bucket
    }

    /// Whose bucket: an address, `network|user name`, or a device id. User names are
    /// client input: a store hashes this before using it in a key.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

/// The network a login-per-user bucket is kept for: an IPv4 /24 or an IPv6 /64 (one
/// household, one mobile carrier's customer), so that changing the last bits of an
/// address does not buy a fresh bucket.
fn network_of(ip: IpAddr) -> ipnet::IpNet {
    let ip = ip.to_canonical();
    prefix_of(ip, if ip.is_ipv4() { 24 } else { 64 })
}

/// The network of `prefix` bits that `ip` belongs to (the address itself for a prefix
/// longer than its family allows).
fn prefix_of(ip: IpAddr, prefix: u8) -> ipnet::IpNet {
    ipnet::IpNet::new(ip, prefix)
        .map(|network| network.trunc())
        .unwrap_or_else(|_| ipnet::IpNet::from(ip))
}

/// A bucket's decision: go ahead, or wait this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// The request may proceed.
    Yes,
    /// The bucket is empty; a request after this wait would be admitted.
    RetryAfter(Duration),
}

/// Whether a check takes a token or only looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Take one token if there is one (the usual check).
    One,
    /// Only say whether a token is there (rule K's genuine-only device bucket looks first
    /// and takes once the refresh proved genuine).
    Peek,
}

/// The stored state of a bucket and what a check at `now` decides: GCRA's "theoretical
/// arrival time", in microseconds since the epoch, and the new one to store when a token
/// was taken. Bucket instants never go backwards, so a clock that steps back refuses
/// nothing it would not have refused before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Go ahead, or wait.
    pub admit: Admit,
    /// The state to keep: `None` when nothing changes (a refusal, a peek).
    pub store: Option<i64>,
}

/// Rule K's token bucket as GCRA: a bucket of `limit.count` tokens, one back every
/// `window / count`. `stored` is the bucket's last state (`None`: full).
#[must_use]
pub fn gcra(stored: Option<i64>, now: DateTime<Utc>, limit: RateLimit, take: Take) -> Decision {
    let now = now.timestamp_micros();
    let interval = limit.interval_micros();
    let burst = limit.burst_micros();
    let arrival = stored.map_or(now, |stored| stored.max(now));
    let waited = arrival.saturating_sub(now);
    if waited > burst {
        let wait = u64::try_from(waited - burst).unwrap_or(0);
        return Decision {
            admit: Admit::RetryAfter(Duration::from_micros(wait)),
            store: None,
        };
    }
    Decision {
        admit: Admit::Yes,
        store: (take == Take::One).then(|| arrival.saturating_add(interval)),
    }
}

/// Where buckets live: [`MemoryRateLimiter`] for one server, a shared store (the Redis
/// crate's) for several. A check is one atomic step per bucket.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Checks `key` against `limit` at `now` as [`gcra`] decides, taking a token when
    /// `take` says so and one is there.
    async fn check(
        &self,
        key: &RateKey,
        limit: RateLimit,
        now: DateTime<Utc>,
        take: Take,
    ) -> Result<Admit, StorageError>;
}
