//! The example servers' settings (SPEC §7): flags, else environment, else defaults.
//! Every bad value stops the server with one line naming the setting.

use std::fmt;
use std::net::SocketAddr;

use clap::Parser;
use trusted_devices_core::http::TrustedProxies;
use trusted_devices_core::{Eviction, Policy, PolicyBuilder};

use crate::duration::parse_duration;

/// Command-line flags; each also reads the `TD_…` variable named in its help. No `Debug`:
/// it holds the secret and the demo passwords.
#[derive(Clone, Parser)]
#[command(about = "A trusted-devices example server (SPEC §6 and §7).")]
pub struct Flags {
    /// Address to listen on.
    #[arg(long, env = "TD_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: String,
    /// sqlite:FILE or postgres://… (the SQLite file is created and migrated on start).
    #[arg(
        long,
        env = "TD_DATABASE_URL",
        default_value = "sqlite:trusted-devices.db"
    )]
    pub database_url: String,
    /// redis://… to keep refresh tokens in Redis.
    #[arg(long, env = "TD_REDIS_URL")]
    pub redis_url: Option<String>,
    /// HS256 signing secret, at least 32 bytes; generated (tokens die on restart) if unset.
    #[arg(long, env = "TD_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Demo users as name:password,name:password.
    #[arg(
        long,
        env = "TD_DEMO_USERS",
        default_value = "alice:alice-password,bob:bob-password",
        hide_env_values = true
    )]
    pub demo_users: String,
    /// Proxies whose X-Forwarded-For / Forwarded are believed: addresses or CIDR networks.
    #[arg(long, env = "TD_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// The one forwarding header the trusted proxies set: x-forwarded-for or forwarded.
    #[arg(
        long,
        env = "TD_TRUSTED_PROXY_HEADER",
        default_value = "x-forwarded-for"
    )]
    pub trusted_proxy_header: String,
    /// Origins whose cookie-authenticated changes are accepted, comma-separated
    /// (default: the server's own origin).
    #[arg(long, env = "TD_ALLOWED_ORIGINS", default_value = "")]
    pub allowed_origins: String,
    /// Cookies for browsers: secure (HTTPS, __Host- names) or development (plain HTTP on
    /// loopback). Default: development when listening on loopback, secure otherwise.
    #[arg(long, env = "TD_COOKIE_MODE", default_value = "")]
    pub cookie_mode: String,
    /// How often expired devices are cleaned up.
    #[arg(long, env = "TD_CLEANUP_INTERVAL", default_value = "1h")]
    pub cleanup_interval: String,
    /// How long a client may take to send a request's head before it is disconnected.
    #[arg(long, env = "TD_HEADER_READ_TIMEOUT", default_value = "10s")]
    pub header_read_timeout: String,
    /// On SIGTERM or Ctrl-C, how long in-flight requests may still run before the process
    /// exits anyway.
    #[arg(long, env = "TD_SHUTDOWN_TIMEOUT", default_value = "10s")]
    pub shutdown_timeout: String,
    /// Bound on each storage step: connecting, waiting for a pooled connection, and each
    /// answer. Past it the request is 503 storage_unavailable.
    #[arg(long, env = "TD_STORAGE_TIMEOUT", default_value = "500ms")]
    pub storage_timeout: String,
    /// How many password checks (argon2, about 19 MiB each) run at once (default: the
    /// number of cores).
    #[arg(long, env = "TD_PASSWORD_HASH_CONCURRENCY")]
    pub password_hash_concurrency: Option<String>,
    /// How many logins may wait for a password check; more are 429 rate_limited.
    #[arg(long, env = "TD_PASSWORD_HASH_QUEUE", default_value = "32")]
    pub password_hash_queue: String,
    /// Access-token lifetime (default 15m).
    #[arg(long, env = "TD_ACCESS_TOKEN_TTL")]
    pub access_token_ttl: Option<String>,
    /// Sliding idle timeout (default 30d).
    #[arg(long, env = "TD_REFRESH_IDLE_TIMEOUT")]
    pub refresh_idle_timeout: Option<String>,
    /// Absolute session cap (default none).
    #[arg(long, env = "TD_SESSION_MAX_LIFETIME")]
    pub session_max_lifetime: Option<String>,
    /// Age a device needs to delete others (default 24h).
    #[arg(long, env = "TD_DELETE_DELAY")]
    pub delete_delay: Option<String>,
    /// Age a device needs to change others (default 1h).
    #[arg(long, env = "TD_UPDATE_DELAY")]
    pub update_delay: Option<String>,
    /// true or false (default true).
    #[arg(long, env = "TD_ALLOW_GLOBAL_DELETE")]
    pub allow_global_delete: Option<String>,
    /// true or false (default true).
    #[arg(long, env = "TD_ALLOW_GLOBAL_UPDATE")]
    pub allow_global_update: Option<String>,
    /// true or false (default true).
    #[arg(long, env = "TD_DEFAULT_CAN_DELETE_OTHER_DEVICES")]
    pub default_can_delete_other_devices: Option<String>,
    /// true or false (default true).
    #[arg(long, env = "TD_DEFAULT_CAN_UPDATE_OTHER_DEVICES")]
    pub default_can_update_other_devices: Option<String>,
    /// true or false (default false).
    #[arg(long, env = "TD_SINGLE_LOGIN")]
    pub single_login: Option<String>,
    /// A whole number of at least 1 (default: no limit).
    #[arg(long, env = "TD_MAX_DEVICES")]
    pub max_devices: Option<String>,
    /// reject, evict-least-recently-used or evict-oldest (default reject).
    #[arg(long, env = "TD_EVICTION")]
    pub eviction: Option<String>,
    /// Minimum gap between last-seen writes (default 5m).
    #[arg(long, env = "TD_TOUCH_INTERVAL")]
    pub touch_interval: Option<String>,
    /// Refresh-token reuse grace (default 10s).
    #[arg(long, env = "TD_REFRESH_REUSE_GRACE")]
    pub refresh_reuse_grace: Option<String>,
    /// Clock-skew allowance on exp (default 5s).
    #[arg(long, env = "TD_LEEWAY")]
    pub leeway: Option<String>,
}

/// A setting that cannot be used: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    /// The environment variable's name.
    pub setting: &'static str,
    /// What is wrong.
    pub problem: String,
}

impl SettingError {
    /// An error of `setting`.
    pub fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        Self {
            setting,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.problem)
    }
}

impl std::error::Error for SettingError {}

/// The validated settings. Their `Debug` hides the secret and the demo passwords.
#[derive(Clone)]
pub struct Settings {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The database URL.
    pub database_url: String,
    /// The Redis URL, if tokens go to Redis.
    pub redis_url: Option<String>,
    /// The signing secret, if configured.
    pub secret: Option<Vec<u8>>,
    /// The demo users' names and passwords.
    pub demo_users: Vec<(String, String)>,
    /// The trusted proxies.
    pub trusted_proxies: TrustedProxies,
    /// How often cleanup runs.
    pub cleanup_interval: std::time::Duration,
    /// Origins allowed to send cookie-authenticated changes; empty: the server's own.
    pub allowed_origins: Vec<String>,
    /// Secure cookies (`Some(true)`), development cookies (`Some(false)`), or by address.
    pub secure_cookies: Option<bool>,
    /// The bounds of the server itself.
    pub limits: ServerLimits,
    /// The policy.
    pub policy: Policy,
}

/// The bounds of the server itself: slow clients, shutdown, storage, password hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// `TD_HEADER_READ_TIMEOUT` (default 10s): a client slower to send its request head is cut off.
    pub header_read_timeout: std::time::Duration,
    /// `TD_SHUTDOWN_TIMEOUT` (default 10s): in-flight requests may finish within it after a signal.
    pub shutdown_timeout: std::time::Duration,
    /// `TD_STORAGE_TIMEOUT` (default 500ms): connect, acquire and response bound of every store.
    pub storage_timeout: std::time::Duration,
    /// `TD_PASSWORD_HASH_CONCURRENCY` (default cores): password checks running at once.
    pub password_hash_concurrency: usize,
    /// `TD_PASSWORD_HASH_QUEUE` (default 32): logins waiting for a password check.
    pub password_hash_queue: usize,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let users: Vec<&str> = self
            .demo_users
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        f.debug_struct("Settings")
            .field("addr", &self.addr)
            .field("database_url", &crate::redact(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(crate::redact))
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("demo_users", &users)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("cleanup_interval", &self.cleanup_interval)
            .field("allowed_origins", &self.allowed_origins)
            .field("secure_cookies", &self.secure_cookies)
            .field("limits", &self.limits)
            .field("policy", &self.policy)
            .finish()
    }
}

fn duration(setting: &'static str, value: &str) -> Result<std::time::Duration, SettingError> {
    parse_duration(value).map_err(|problem| SettingError::new(setting, problem))
}

/// A whole number, at least `min`.
fn count(setting: &'static str, text: &str, min: usize) -> Result<usize, SettingError> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|value| *value >= min)
        .ok_or_else(|| {
            SettingError::new(setting, format!("{text:?} is not a whole number >= {min}"))
        })
}

fn boolean(setting: &'static str, value: &str) -> Result<bool, SettingError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(SettingError::new(
            setting,
            format!("{value:?} is not true or false"),
        )),
    }
}

/// Applies `value`, parsed by `parse`, to the builder with `set`, when given.
fn apply<T>(
    builder: PolicyBuilder,
    setting: &'static str,
    value: Option<&String>,
    parse: fn(&'static str, &str) -> Result<T, SettingError>,
    set: fn(PolicyBuilder, T) -> PolicyBuilder,
) -> Result<PolicyBuilder, SettingError> {
    match value {
        Some(value) => Ok(set(builder, parse(setting, value)?)),
        None => Ok(builder),
    }
}

fn max_devices(setting: &'static str, value: &str) -> Result<u32, SettingError> {
    value
        .trim()
        .parse()
        .map_err(|_| SettingError::new(setting, format!("{value:?} is not a whole number")))
}

fn eviction(setting: &'static str, value: &str) -> Result<Eviction, SettingError> {
    value
        .trim()
        .parse()
        .map_err(|error| SettingError::new(setting, format!("{error}")))
}

impl Flags {
    /// Validates every setting.
    pub fn settings(&self) -> Result<Settings, SettingError> {
        Ok(Settings {
            addr: self.addr.parse().map_err(|_| {
                SettingError::new("TD_ADDR", format!("{:?} is not an address:port", self.addr))
            })?,
            database_url: self.database_url.clone(),
            redis_url: self.redis_url.clone().filter(|url| !url.is_empty()),
            secret: self.secret()?,
            demo_users: self.demo_users()?,
            trusted_proxies: self.trusted_proxies()?,
            cleanup_interval: duration("TD_CLEANUP_INTERVAL", &self.cleanup_interval)?,
            allowed_origins: self.allowed_origins()?,
            secure_cookies: self.secure_cookies()?,
            limits: self.limits()?,
            policy: self.policy()?,
        })
    }

    fn allowed_origins(&self) -> Result<Vec<String>, SettingError> {
        self.allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                let (scheme, host) = origin.split_once("://").unwrap_or_default();
                let bare = !host.is_empty() && !host.trim_end_matches('/').contains('/');
                if matches!(scheme, "http" | "https") && bare {
                    Ok(origin.trim_end_matches('/').to_owned())
                } else {
                    Err(SettingError::new(
                        "TD_ALLOWED_ORIGINS",
                        format!("{origin:?} is not an origin like https://app.example.com"),
                    ))
                }
            })
            .collect()
    }

    fn secure_cookies(&self) -> Result<Option<bool>, SettingError> {
        match self.cookie_mode.trim() {
            "" => Ok(None),
            "secure" => Ok(Some(true)),
            "development" => Ok(Some(false)),
            other => Err(SettingError::new(
                "TD_COOKIE_MODE",
                format!("{other:?} is neither secure nor development"),
            )),
        }
    }

    fn limits(&self) -> Result<ServerLimits, SettingError> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let concurrency = match self.password_hash_concurrency.as_deref() {
            None | Some("") => cores,
            Some(text) => count("TD_PASSWORD_HASH_CONCURRENCY", text, 1)?,
        };
        let positive = |setting: &'static str, text: &str| {
            let value = duration(setting, text)?;
            if value.is_zero() {
                return Err(SettingError::new(setting, "must be longer than zero"));
            }
            Ok(value)
        };
        Ok(ServerLimits {
            header_read_timeout: positive("TD_HEADER_READ_TIMEOUT", &self.header_read_timeout)?,
            shutdown_timeout: duration("TD_SHUTDOWN_TIMEOUT", &self.shutdown_timeout)?,
            storage_timeout: positive("TD_STORAGE_TIMEOUT", &self.storage_timeout)?,
            password_hash_concurrency: concurrency,
            password_hash_queue: count("TD_PASSWORD_HASH_QUEUE", &self.password_hash_queue, 0)?,
        })
    }

    fn trusted_proxies(&self) -> Result<TrustedProxies, SettingError> {
        let proxies: TrustedProxies = self
            .trusted_proxies
            .parse()
            .map_err(|error| SettingError::new("TD_TRUSTED_PROXIES", format!("{error}")))?;
        let header = self
            .trusted_proxy_header
            .parse()
            .map_err(|error| SettingError::new("TD_TRUSTED_PROXY_HEADER", format!("{error}")))?;
        Ok(proxies.header(header))
    }

    fn secret(&self) -> Result<Option<Vec<u8>>, SettingError> {
        match self.secret.as_deref() {
            None | Some("") => Ok(None),
            Some(secret) if secret.len() < 32 => Err(SettingError::new(
                "TD_SECRET",
                format!("must be at least 32 bytes, got {}", secret.len()),
            )),
            Some(secret) => Ok(Some(secret.as_bytes().to_vec())),
        }
    }

    fn demo_users(&self) -> Result<Vec<(String, String)>, SettingError> {
        self.demo_users
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| match entry.split_once(':') {
                Some((name, password)) if !name.trim().is_empty() && !password.is_empty() => {
                    Ok((name.trim().to_owned(), password.to_owned()))
                }
                _ => Err(SettingError::new(
                    "TD_DEMO_USERS",
                    "expected name:password,name:password",
                )),
            })
            .collect()
    }

    fn policy(&self) -> Result<Policy, SettingError> {
        let mut b = Policy::builder();
        b = apply(
            b,
            "TD_ACCESS_TOKEN_TTL",
            self.access_token_ttl.as_ref(),
            duration,
            PolicyBuilder::access_token_ttl,
        )?;
        b = apply(
            b,
            "TD_REFRESH_IDLE_TIMEOUT",
            self.refresh_idle_timeout.as_ref(),
            duration,
            PolicyBuilder::refresh_idle_timeout,
        )?;
        b = apply(
            b,
            "TD_SESSION_MAX_LIFETIME",
            self.session_max_lifetime.as_ref(),
            duration,
            |b, d| b.session_max_lifetime(Some(d)),
        )?;
        b = apply(
            b,
            "TD_DELETE_DELAY",
            self.delete_delay.as_ref(),
            duration,
            PolicyBuilder::delete_delay,
        )?;
        b = apply(
            b,
            "TD_UPDATE_DELAY",
            self.update_delay.as_ref(),
            duration,
            PolicyBuilder::update_delay,
        )?;
        b = apply(
            b,
            "TD_ALLOW_GLOBAL_DELETE",
            self.allow_global_delete.as_ref(),
            boolean,
            PolicyBuilder::allow_global_delete,
        )?;
        b = apply(
            b,
            "TD_ALLOW_GLOBAL_UPDATE",
            self.allow_global_update.as_ref(),
            boolean,
            PolicyBuilder::allow_global_update,
        )?;
        b = apply(
            b,
            "TD_DEFAULT_CAN_DELETE_OTHER_DEVICES",
            self.default_can_delete_other_devices.as_ref(),
            boolean,
            PolicyBuilder::default_can_delete_other_devices,
        )?;
        b = apply(
            b,
            "TD_DEFAULT_CAN_UPDATE_OTHER_DEVICES",
            self.default_can_update_other_devices.as_ref(),
            boolean,
            PolicyBuilder::default_can_update_other_devices,
        )?;
        b = apply(
            b,
            "TD_SINGLE_LOGIN",
            self.single_login.as_ref(),
            boolean,
            PolicyBuilder::single_login,
        )?;
        b = apply(
            b,
            "TD_MAX_DEVICES",
            self.max_devices.as_ref(),
            max_devices,
            |b, n| b.max_devices(Some(n)),
        )?;
        b = apply(
            b,
            "TD_EVICTION",
            self.eviction.as_ref(),
            eviction,
            PolicyBuilder::eviction,
        )?;
        b = apply(
            b,
            "TD_TOUCH_INTERVAL",
            self.touch_interval.as_ref(),
            duration,
            PolicyBuilder::touch_interval,
        )?;
        b = apply(
            b,
            "TD_REFRESH_REUSE_GRACE",
            self.refresh_reuse_grace.as_ref(),
            duration,
            PolicyBuilder::refresh_reuse_grace,
        )?;
        b = apply(
            b,
            "TD_LEEWAY",
            self.leeway.as_ref(),
            duration,
            PolicyBuilder::leeway,
        )?;
        b.build()
            .map_err(|error| SettingError::new(policy_setting(&error), error.to_string()))
    }
}

/// The setting a policy error is about, for the one-line message.
fn policy_setting(error: &trusted_devices_core::PolicyError) -> &'static str {
    use trusted_devices_core::PolicyError;
    match error {
        PolicyError::Zero(field) | PolicyError::TooLong(field) => match *field {
            "access_token_ttl" => "TD_ACCESS_TOKEN_TTL",
            "refresh_idle_timeout" => "TD_REFRESH_IDLE_TIMEOUT",
            "session_max_lifetime" => "TD_SESSION_MAX_LIFETIME",
            "delete_delay" => "TD_DELETE_DELAY",
            "update_delay" => "TD_UPDATE_DELAY",
            "touch_interval" => "TD_TOUCH_INTERVAL",
            "leeway" => "TD_LEEWAY",
            _ => "TD_REFRESH_REUSE_GRACE",
        },
        PolicyError::AccessTokenTtlUnderOneSecond => "TD_ACCESS_TOKEN_TTL",
        PolicyError::GraceLongerThanIdleTimeout => "TD_REFRESH_REUSE_GRACE",
        PolicyError::ZeroMaxDevices => "TD_MAX_DEVICES",
        _ => "TD_*",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Flags {
        let mut all = vec!["server"];
        all.extend_from_slice(args);
        Flags::try_parse_from(all).unwrap()
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        let settings = flags(&[
            "--secret=0123456789-top-secret-0123456789",
            "--demo-users=alice:hunter2-password",
            "--database-url=postgres://td:dbpass@db/app",
        ])
        .settings()
        .unwrap();
        let debug = format!("{settings:?}");
        for secret in ["top-secret", "hunter2", "dbpass"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(debug.contains("alice"));
    }

    #[test]
    fn defaults_are_the_spec_defaults() {
        let settings = flags(&[]).settings().unwrap();
        assert_eq!(settings.addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(settings.database_url, "sqlite:trusted-devices.db");
        assert_eq!(settings.policy, Policy::default());
        assert_eq!(settings.demo_users.len(), 2);
        assert!(settings.secret.is_none());
    }

    #[test]
    fn every_policy_field_is_settable() {
        let settings = flags(&[
            "--access-token-ttl=1m",
            "--refresh-idle-timeout=2d",
            "--session-max-lifetime=90d",
            "--delete-delay=0s",
            "--update-delay=0s",
            "--allow-global-delete=false",
            "--allow-global-update=false",
            "--default-can-delete-other-devices=false",
            "--default-can-update-other-devices=false",
            "--single-login=true",
            "--max-devices=3",
            "--eviction=evict-oldest",
            "--touch-interval=0s",
            "--refresh-reuse-grace=5s",
            "--leeway=0s",
        ])
        .settings()
        .unwrap();
        let p = settings.policy;
        assert_eq!(p.access_token_ttl().as_secs(), 60);
        assert_eq!(p.refresh_idle_timeout().as_secs(), 172_800);
        assert_eq!(
            p.session_max_lifetime().map(|d| d.as_secs()),
            Some(7_776_000)
        );
        assert!(p.delete_delay().is_zero() && p.update_delay().is_zero());
        assert!(!p.allow_global_delete() && !p.allow_global_update());
        assert!(!p.default_can_delete_other_devices() && !p.default_can_update_other_devices());
        assert!(p.single_login());
        assert_eq!(p.max_devices().map(|n| n.get()), Some(3));
        assert_eq!(p.eviction(), Eviction::EvictOldest);
        assert!(p.touch_interval().is_zero() && p.leeway().is_zero());
        assert_eq!(p.refresh_reuse_grace().as_secs(), 5);
    }

    #[test]
    fn bad_values_name_their_setting() {
        let cases: [(&[&str], &str); 8] = [
            (&["--delete-delay=5x"], "TD_DELETE_DELAY"),
            (&["--eviction=newest"], "TD_EVICTION"),
            (&["--max-devices=0"], "TD_MAX_DEVICES"),
            (&["--max-devices=many"], "TD_MAX_DEVICES"),
            (&["--single-login=maybe"], "TD_SINGLE_LOGIN"),
            (&["--secret=short"], "TD_SECRET"),
            (&["--addr=nowhere"], "TD_ADDR"),
            (&["--access-token-ttl=0s"], "TD_ACCESS_TOKEN_TTL"),
        ];
        for (args, setting) in cases {
            let error = flags(args).settings().unwrap_err();
            assert_eq!(error.setting, setting, "{args:?}");
            assert!(!error.to_string().contains('\n'), "one line: {error}");
        }
    }
}
