//! The example servers' settings (SPEC §7): flags, else environment, else defaults.
//! Every bad value stops the server with one line naming the setting.

use std::fmt;
use std::net::SocketAddr;

use clap::{CommandFactory, FromArgMatches, Parser};
use trusted_devices_core::http::TrustedProxies;
use trusted_devices_core::{Policy, PolicyError, SETTINGS, parse_duration};

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
    /// A MaxMind DB file (GeoLite2 or DB-IP Lite City or Country) for devices' locations;
    /// reloaded on SIGHUP. Unset: no offline geolocation.
    #[arg(long, env = "TD_GEOIP_DB")]
    pub geoip_db: Option<String>,
    /// A separate MaxMind DB ASN file (GeoLite2-ASN), for the `new_network` signal.
    #[arg(long, env = "TD_GEOIP_ASN_DB")]
    pub geoip_asn_db: Option<String>,
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
    /// The policy settings given, by SPEC §3 name: one flag and one `TD_…` variable per
    /// row of the core's `SETTINGS`, added to the command by [`Flags::try_parse_from`].
    #[arg(skip)]
    pub policy: Vec<(&'static str, String)>,
}

/// A setting that cannot be used: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    /// The environment variable's name.
    pub setting: String,
    /// What is wrong.
    pub problem: String,
}

impl SettingError {
    /// An error of `setting`.
    pub fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
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
    /// The geolocation database files, if any.
    pub geoip: Option<GeoipFiles>,
    /// The policy.
    pub policy: Policy,
}

/// `TD_GEOIP_DB` and `TD_GEOIP_ASN_DB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoipFiles {
    /// The City or Country database.
    pub location: std::path::PathBuf,
    /// The ASN database, when separate.
    pub asn: Option<std::path::PathBuf>,
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
            .field("geoip", &self.geoip)
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
            geoip: self.geoip()?,
            policy: self.policy()?,
        })
    }

    fn geoip(&self) -> Result<Option<GeoipFiles>, SettingError> {
        let given = |value: &Option<String>| value.clone().filter(|path| !path.trim().is_empty());
        match (given(&self.geoip_db), given(&self.geoip_asn_db)) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(SettingError::new(
                "TD_GEOIP_ASN_DB",
                "needs TD_GEOIP_DB (the City or Country database) too",
            )),
            (Some(location), asn) => Ok(Some(GeoipFiles {
                location: location.into(),
                asn: asn.map(Into::into),
            })),
        }
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
        let mut builder = Policy::builder();
        for (setting, value) in &self.policy {
            builder = builder.set(setting, value).map_err(policy_error)?;
        }
        builder.build().map_err(policy_error)
    }

    /// Reads the command line and the environment: the server's own flags, then one flag
    /// (`--delete-delay`) and one variable (`TD_DELETE_DELAY`) per policy setting of the
    /// core's table, so a new setting needs no change here. A true-or-false setting may be
    /// given bare (`--single-login`). Help and errors are clap's.
    pub fn try_parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = with_policy_flags(Self::command()).try_get_matches_from(args)?;
        let mut flags = Self::from_arg_matches(&matches)?;
        flags.policy = SETTINGS
            .iter()
            .filter_map(|setting| {
                let value = matches.get_one::<String>(setting.name)?;
                Some((setting.name, value.clone()))
            })
            .collect();
        Ok(flags)
    }

    /// [`try_parse_from`](Self::try_parse_from) on this process's arguments; `--help` and
    /// bad flags exit as clap does.
    pub fn from_command_line() -> Self {
        Self::try_parse_from(std::env::args_os()).unwrap_or_else(|error| error.exit())
    }
}

/// `TD_` and the setting's name in upper case: `TD_DELETE_DELAY`.
fn variable(setting: &str) -> String {
    format!("TD_{}", setting.to_ascii_uppercase())
}

fn with_policy_flags(command: clap::Command) -> clap::Command {
    command.args(SETTINGS.iter().map(|setting| {
        let help = format!(
            "{} Expects {} [default: {}]",
            setting.doc.trim(),
            setting.spelling,
            setting.default
        );
        let arg = clap::Arg::new(setting.name)
            .long(setting.name.replace('_', "-"))
            .env(variable(setting.name))
            .value_name("VALUE")
            .help(help);
        if setting.is_flag {
            arg.num_args(0..=1).default_missing_value("true")
        } else {
            arg
        }
    }))
}

/// A policy refusal as one line naming its variable.
fn policy_error(error: PolicyError) -> SettingError {
    let setting = error.setting().map_or_else(|| "TD_*".to_owned(), variable);
    SettingError::new(setting, error.to_string())
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
        assert_eq!(p.max_devices(), Some(3));
        assert_eq!(p.eviction(), trusted_devices_core::Eviction::EvictOldest);
        assert!(p.touch_interval().is_zero() && p.leeway().is_zero());
        assert_eq!(p.refresh_reuse_grace().as_secs(), 5);
    }

    #[test]
    fn true_or_false_settings_may_be_given_bare() {
        let bare = flags(&["--single-login", "--allow-global-delete", "false"]);
        let policy = bare.settings().unwrap().policy;
        assert!(policy.single_login());
        assert!(!policy.allow_global_delete());
        assert!(flags(&[]).settings().unwrap().policy == Policy::default());
    }

    #[test]
    fn every_row_of_the_core_table_is_a_flag_and_a_variable() {
        let command = with_policy_flags(Flags::command());
        for setting in SETTINGS {
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_id() == setting.name)
                .unwrap_or_else(|| panic!("no flag for {}", setting.name));
            assert_eq!(
                arg.get_long(),
                Some(setting.name.replace('_', "-").as_str())
            );
            let env = arg.get_env().and_then(|env| env.to_str()).unwrap();
            assert_eq!(env, variable(setting.name));
        }
    }

    #[test]
    fn bad_values_name_their_setting() {
        let cases: [(&[&str], &str); 9] = [
            (
                &["--session-max-lifetime=forever"],
                "TD_SESSION_MAX_LIFETIME",
            ),
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
