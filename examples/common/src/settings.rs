//! The example servers' settings (SPEC §7): flags, else environment, else defaults.
//! Every value is typed once, by clap's value parsers as it reads the flag or variable;
//! every bad value stops the server with one line naming the setting.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use trusted_devices_core::dpop::PublicOrigin;
use trusted_devices_core::http::{ForwardedHeader, TrustedProxies};
use trusted_devices_core::{Policy, PolicyError, SETTINGS, parse_duration};

/// Command-line flags; each also reads the `TD_…` variable named in its help. No `Debug`:
/// it holds the secret and the demo passwords.
#[derive(Clone, Parser)]
#[command(about = "A trusted-devices example server (SPEC §6 and §7).")]
pub struct Flags {
    /// Address to listen on.
    #[arg(long, env = "TD_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
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
    #[arg(long, env = "TD_SECRET", hide_env_values = true, value_parser = secret)]
    pub secret: Option<Secret>,
    /// Demo users as name:password,name:password.
    #[arg(
        long,
        env = "TD_DEMO_USERS",
        default_value = "alice:alice-password,bob:bob-password",
        hide_env_values = true,
        value_delimiter = ',',
        value_parser = demo_user
    )]
    pub demo_users: Vec<DemoUser>,
    /// Proxies whose X-Forwarded-For / Forwarded are believed: addresses or CIDR networks.
    #[arg(long, env = "TD_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// The one forwarding header the trusted proxies set: x-forwarded-for or forwarded.
    #[arg(
        long,
        env = "TD_TRUSTED_PROXY_HEADER",
        default_value = "x-forwarded-for"
    )]
    pub trusted_proxy_header: ForwardedHeader,
    /// Origins whose cookie-authenticated changes are accepted, comma-separated
    /// (default: the server's own origin).
    #[arg(long, env = "TD_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = origin)]
    pub allowed_origins: Vec<String>,
    /// The origins clients address this server by, comma-separated: a DPoP proof's `htu`
    /// must name one of them (SPEC §9). Default: the listener's own origin (and
    /// `localhost` on loopback), with `https` when cookies are secure (a TLS proxy).
    #[arg(long, env = "TD_PUBLIC_ORIGIN", value_delimiter = ',', value_parser = public_origin)]
    pub public_origin: Vec<PublicOrigin>,
    /// Cookies for browsers: secure (HTTPS, __Host- names) or development (plain HTTP on
    /// loopback). Default: development when listening on loopback, secure otherwise.
    #[arg(long, env = "TD_COOKIE_MODE", value_enum)]
    pub cookie_mode: Option<CookieMode>,
    /// The CDN in front of the trusted proxies whose location headers are believed: none,
    /// cloudflare, cloudfront or vercel. Headers of any other CDN are ignored: a client
    /// could have written them.
    #[arg(long, env = "TD_CDN", value_enum, default_value = "none")]
    pub cdn: Cdn,
    /// A MaxMind DB file (GeoLite2 or DB-IP Lite City or Country) for devices' locations;
    /// reloaded on SIGHUP. Unset: no offline geolocation.
    #[arg(long, env = "TD_GEOIP_DB")]
    pub geoip_db: Option<PathBuf>,
    /// A separate MaxMind DB ASN file (GeoLite2-ASN), for the `new_network` signal.
    #[arg(long, env = "TD_GEOIP_ASN_DB")]
    pub geoip_asn_db: Option<PathBuf>,
    /// Where Prometheus metrics are served (`GET /metrics`), on a listener of their own,
    /// never the public one. Unset: no metrics are served. Keep it off public networks.
    #[arg(long, env = "TD_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// How often expired devices are cleaned up.
    #[arg(long, env = "TD_CLEANUP_INTERVAL", default_value = "1h", value_parser = parse_duration)]
    pub cleanup_interval: Duration,
    /// How long a client may take to send a request's head before it is disconnected.
    #[arg(long, env = "TD_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    pub header_read_timeout: Duration,
    /// On SIGTERM or Ctrl-C, how long in-flight requests may still run before the process
    /// exits anyway.
    #[arg(long, env = "TD_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
    /// Bound on each storage step: connecting, waiting for a pooled connection, and each
    /// answer. Past it the request is 503 storage_unavailable.
    #[arg(long, env = "TD_STORAGE_TIMEOUT", default_value = "500ms", value_parser = positive_duration)]
    pub storage_timeout: Duration,
    /// How many password checks (argon2, about 19 MiB each) run at once (default: the
    /// number of cores).
    #[arg(long, env = "TD_PASSWORD_HASH_CONCURRENCY")]
    pub password_hash_concurrency: Option<NonZeroUsize>,
    /// How many logins may wait for a password check; more are 429 rate_limited.
    #[arg(long, env = "TD_PASSWORD_HASH_QUEUE", default_value = "32")]
    pub password_hash_queue: usize,
    /// The policy settings given, by SPEC §3 name: one flag and one `TD_…` variable per
    /// row of the core's `SETTINGS`, added to the command by [`Flags::try_parse_from`] and
    /// read by the core's own table, which is their parser.
    #[arg(skip)]
    pub policy: Vec<(&'static str, String)>,
}

/// `TD_COOKIE_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CookieMode {
    /// HTTPS: `Secure` cookies with `__Host-` / `__Secure-` names.
    Secure,
    /// Plain HTTP on loopback: no `Secure`, no prefixes.
    Development,
}

/// `TD_CDN`: whose location headers are believed behind the trusted proxies (rule G).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cdn {
    /// None: only the offline database locates.
    None,
    /// Cloudflare's `CF-IPCountry` and visitor-location headers.
    Cloudflare,
    /// Amazon CloudFront's `CloudFront-Viewer-*` headers.
    Cloudfront,
    /// Vercel's `X-Vercel-IP-*` headers.
    Vercel,
}

/// `TD_SECRET`: at least 32 bytes. Its `Debug` is redacted.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// One `name:password` of `TD_DEMO_USERS`.
#[derive(Clone)]
pub struct DemoUser {
    name: String,
    password: String,
}

fn secret(text: &str) -> Result<Secret, String> {
    if text.len() < 32 {
        return Err(format!("must be at least 32 bytes, got {}", text.len()));
    }
    Ok(Secret(text.as_bytes().to_vec()))
}

fn demo_user(entry: &str) -> Result<DemoUser, String> {
    match entry.split_once(':') {
        Some((name, password)) if !name.trim().is_empty() && !password.is_empty() => Ok(DemoUser {
            name: name.trim().to_owned(),
            password: password.to_owned(),
        }),
        _ => Err("expected name:password,name:password".to_owned()),
    }
}

fn origin(text: &str) -> Result<String, String> {
    let origin = text.trim();
    let (scheme, host) = origin.split_once("://").unwrap_or_default();
    let bare = !host.is_empty() && !host.trim_end_matches('/').contains('/');
    if matches!(scheme, "http" | "https") && bare {
        Ok(origin.trim_end_matches('/').to_owned())
    } else {
        Err(format!(
            "{origin:?} is not an origin like https://app.example.com"
        ))
    }
}

fn public_origin(text: &str) -> Result<PublicOrigin, String> {
    PublicOrigin::parse(text).map_err(|_| {
        format!("{text:?} is not an origin like https://api.example.com (no path, no query)")
    })
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        zero if zero.is_zero() => Err("must be longer than zero".to_owned()),
        duration => Ok(duration),
    }
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
    /// Where metrics are served, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// Origins allowed to send cookie-authenticated changes; empty: the server's own.
    pub allowed_origins: Vec<String>,
    /// The origins DPoP proofs may name; empty: the listener's own.
    pub public_origins: Vec<PublicOrigin>,
    /// Secure cookies (`Some(true)`), development cookies (`Some(false)`), or by address.
    pub secure_cookies: Option<bool>,
    /// The bounds of the server itself.
    pub limits: ServerLimits,
    /// The CDN whose location headers are believed.
    pub cdn: Cdn,
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
            .field("metrics_addr", &self.metrics_addr)
            .field("allowed_origins", &self.allowed_origins)
            .field("public_origins", &self.public_origins)
            .field("secure_cookies", &self.secure_cookies)
            .field("limits", &self.limits)
            .field("cdn", &self.cdn)
            .field("geoip", &self.geoip)
            .field("policy", &self.policy)
            .finish()
    }
}

impl Flags {
    /// The settings, checked across flags (the values themselves were typed as they were
    /// read) and with the policy built by the core's table.
    pub fn settings(&self) -> Result<Settings, SettingError> {
        let cores = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
        Ok(Settings {
            addr: self.addr,
            database_url: self.database_url.clone(),
            redis_url: self.redis_url.clone().filter(|url| !url.is_empty()),
            secret: self.secret.as_ref().map(|secret| secret.0.clone()),
            demo_users: self
                .demo_users
                .iter()
                .map(|user| (user.name.clone(), user.password.clone()))
                .collect(),
            trusted_proxies: self
                .trusted_proxies
                .clone()
                .header(self.trusted_proxy_header),
            cleanup_interval: self.cleanup_interval,
            metrics_addr: self.metrics_addr,
            allowed_origins: self.allowed_origins.clone(),
            public_origins: self.public_origin.clone(),
            secure_cookies: self.cookie_mode.map(|mode| mode == CookieMode::Secure),
            limits: ServerLimits {
                header_read_timeout: self.header_read_timeout,
                shutdown_timeout: self.shutdown_timeout,
                storage_timeout: self.storage_timeout,
                password_hash_concurrency: self.password_hash_concurrency.unwrap_or(cores).get(),
                password_hash_queue: self.password_hash_queue,
            },
            cdn: self.cdn,
            geoip: self.geoip()?,
            policy: self.policy()?,
        })
    }

    fn geoip(&self) -> Result<Option<GeoipFiles>, SettingError> {
        match (&self.geoip_db, &self.geoip_asn_db) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(SettingError::new(
                "TD_GEOIP_ASN_DB",
                "needs TD_GEOIP_DB (the City or Country database) too",
            )),
            (Some(location), asn) => Ok(Some(GeoipFiles {
                location: location.clone(),
                asn: asn.clone(),
            })),
        }
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

    /// [`try_parse_from`](Self::try_parse_from) on this process's arguments. A value that
    /// does not parse is a [`SettingError`] naming its variable; `--help`, `--version` and
    /// unknown flags exit as clap does.
    pub fn from_command_line() -> Result<Self, SettingError> {
        Self::try_parse_from(std::env::args_os())
            .map_err(|error| value_error(&error).unwrap_or_else(|| error.exit()))
    }
}

/// A value that clap's parsers refused, as one line naming its `TD_…` variable; `None` for
/// every other outcome (help, unknown flags, missing values).
pub fn value_error(error: &clap::Error) -> Option<SettingError> {
    if !matches!(
        error.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return None;
    }
    let ContextValue::String(arg) = error.get(ContextKind::InvalidArg)? else {
        return None;
    };
    let mut command = with_policy_flags(Flags::command());
    // An argument prints as clap's error names it only once the command is built.
    command.build();
    let refused = command
        .get_arguments()
        .find(|candidate| candidate.to_string() == *arg)?;
    let setting = refused.get_env()?.to_string_lossy().into_owned();
    // A secret's value never reaches the output, not even a wrong one.
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) if !refused.is_hide_env_values_set() => {
            format!("{value:?}: ")
        }
        _ => String::new(),
    };
    let problem = std::error::Error::source(error).map_or_else(
        || format!("{value}not one of the values it takes (see --help)"),
        |source| format!("{value}{source}"),
    );
    Some(SettingError::new(setting, problem))
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

    /// The settings of `args`, or the one-line error a server would print.
    fn settings(args: &[&str]) -> Result<Settings, SettingError> {
        let mut all = vec!["server"];
        all.extend_from_slice(args);
        let flags = Flags::try_parse_from(all)
            .map_err(|error| value_error(&error).unwrap_or_else(|| panic!("{error}")))?;
        flags.settings()
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
        let cases: [(&[&str], &str); 14] = [
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
            (&["--storage-timeout=0s"], "TD_STORAGE_TIMEOUT"),
            (&["--cookie-mode=maybe"], "TD_COOKIE_MODE"),
            (
                &["--allowed-origins=https://a.example,ftp://b"],
                "TD_ALLOWED_ORIGINS",
            ),
            (&["--demo-users=alice"], "TD_DEMO_USERS"),
            (
                &["--password-hash-concurrency=0"],
                "TD_PASSWORD_HASH_CONCURRENCY",
            ),
        ];
        for (args, setting) in cases {
            let error = settings(args).unwrap_err();
            assert_eq!(error.setting, setting, "{args:?}");
            assert!(!error.to_string().contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn a_wrong_secret_is_refused_without_showing_it() {
        let error = settings(&["--secret=short-but-secret"]).unwrap_err();
        assert_eq!(error.setting, "TD_SECRET");
        assert!(!error.to_string().contains("short-but-secret"), "{error}");
    }

    #[test]
    fn lists_are_split_and_typed_once() {
        let settings = settings(&[
            "--allowed-origins=https://a.example/,http://127.0.0.1:8080",
            "--demo-users=carol:carol-password,dave:dave-password",
            "--cookie-mode=secure",
        ])
        .unwrap();
        assert_eq!(
            settings.allowed_origins,
            ["https://a.example", "http://127.0.0.1:8080"]
        );
        let names: Vec<&str> = settings
            .demo_users
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["carol", "dave"]);
        assert_eq!(settings.secure_cookies, Some(true));
    }
}
