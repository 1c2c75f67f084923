//! Every setting of SPEC §3, in one table: its documentation, the type its builder setter
//! takes and its getter returns, its kind (how it is checked, stored and spelled; see
//! `kind.rs`) and its default, in code and as shown in the docs.
//!
//! Adding a setting is adding a row here. The `Policy` field, getter, builder field,
//! default, setter, check, settings spelling and the example servers' flag all come from
//! the row. Checks across settings live in [`PolicyBuilder::build`].

use std::time::Duration;

use crate::policy::kind::{Flag, Limit, Mode, OptionalSpan, PositiveSpan, Prefix, Rate, Span};
use crate::policy::{DpopMode, Eviction, PolicyError, Setting};
use crate::rate_limit::RateLimit;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

define_policy! {
    /// Lifetime of an access token; at least one second.
    access_token_ttl: Duration as PositiveSpan = Duration::from_secs(15 * MINUTE), "15m";
    /// Sliding idle timeout of a session; each refresh moves it.
    refresh_idle_timeout: Duration as PositiveSpan = Duration::from_secs(30 * DAY), "30d";
    /// Absolute cap of a session, never moved by refresh.
    session_max_lifetime: Option<Duration> as OptionalSpan = None, "none";
    /// Age an acting device needs before it may delete other devices (rule A); zero allowed.
    delete_delay: Duration as Span = Duration::from_secs(DAY), "24h";
    /// Age an acting device needs before it may change other devices (rule A); zero allowed.
    update_delay: Duration as Span = Duration::from_secs(HOUR), "1h";
    /// Whether any device may delete other devices at all.
    allow_global_delete: bool as Flag = true, "true";
    /// Whether any device may change other devices at all.
    allow_global_update: bool as Flag = true, "true";
    /// `can_delete_other_devices` of a new device.
    default_can_delete_other_devices: bool as Flag = true, "true";
    /// `can_update_other_devices` of a new device.
    default_can_update_other_devices: bool as Flag = true, "true";
    /// Whether a login revokes every other device of the user.
    single_login: bool as Flag = false, "false";
    /// The most devices a user may hold (rule L); at least 1.
    max_devices: Option<u32> as Limit = None, "none";
    /// What a login does when the user already holds `max_devices` devices.
    eviction: Eviction as Mode = Eviction::Reject, "reject";
    /// Minimum gap between two `last_seen_at` writes of one device; zero allowed.
    touch_interval: Duration as Span = Duration::from_secs(5 * MINUTE), "5m";
    /// How long a consumed refresh token still yields its successor (rule R); zero allowed,
    /// never longer than `refresh_idle_timeout`.
    refresh_reuse_grace: Duration as Span = Duration::from_secs(10), "10s";
    /// Clock-skew allowance when checking `exp`; zero allowed.
    leeway: Duration as Span = Duration::from_secs(5), "5s";
    /// The longest a cached device may be served (rule T); zero: no cache.
    device_cache_ttl: Duration as Span = Duration::from_secs(1), "1s";
    /// How long a user's history (rule H) keeps an entry; cleanup deletes older ones.
    audit_retention: Duration as PositiveSpan = Duration::from_secs(90 * DAY), "90d";
    /// Whether the rate limits below apply at all (rule K); off for test rigs and load tests.
    rate_limits: bool as Flag = true, "true";
    /// Logins from one client address (rule K); off disables it.
    login_rate_per_ip: Option<RateLimit> as Rate = RateLimit::new(20, Duration::from_secs(MINUTE)), "20/1m";
    /// Logins to one user name from one client network, an IPv4 /24 or IPv6 /64 (rule K):
    /// per network, so that nobody can lock a user out by trying wrong passwords.
    login_rate_per_user: Option<RateLimit> as Rate = RateLimit::new(10, Duration::from_secs(15 * MINUTE)), "10/15m";
    /// Logins to one user name from all networks together (rule K), above the per-network
    /// buckets: an attacker with many networks (an IPv6 /48 holds 65,536 /64s) guesses no
    /// more than this. Its price: such an attacker can keep the name's new logins waiting
    /// for the window; devices already signed in are never touched.
    login_rate_per_name: Option<RateLimit> as Rate = RateLimit::new(100, Duration::from_secs(15 * MINUTE)), "100/15m";
    /// Refreshes from one client address (rule K).
    refresh_rate_per_ip: Option<RateLimit> as Rate = RateLimit::new(120, Duration::from_secs(MINUTE)), "120/1m";
    /// Genuine refreshes of one device (rule K): a client stuck in a refresh loop.
    refresh_rate_per_device: Option<RateLimit> as Rate = RateLimit::new(30, Duration::from_secs(MINUTE)), "30/1m";
    /// Verifications from one client address (rule K).
    verify_rate_per_ip: Option<RateLimit> as Rate = RateLimit::new(600, Duration::from_secs(MINUTE)), "600/1m";
    /// The network an IPv6 client's per-address buckets count (rule K): one holder of a /64
    /// (a household, a phone) has 2^64 addresses, each of which would otherwise get a
    /// bucket of its own.
    rate_limit_ipv6_prefix: u8 as Prefix = 64, "64";
    /// Whether devices may or must hold a key (SPEC §9): `off`, `allowed` or `required`.
    dpop: DpopMode as Mode = DpopMode::Allowed, "allowed";
    /// Whether DPoP proofs must carry a server-issued nonce (`DPoP-Nonce`, RFC 9449 §8).
    dpop_nonce: bool as Flag = false, "false";
    /// How far a DPoP proof's `iat` may lie from now, either way; its `jti` is remembered as
    /// long.
    dpop_proof_age: Duration as PositiveSpan = Duration::from_secs(60), "60s";
}
