//! What the trusted-devices example servers share: settings (SPEC §7), demo users, opening
//! the stores, the demo login and `/me` in the core's neutral form, start-up and shutdown.
//! The axum and actix servers only translate between their framework and this.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod app;
pub mod geolocation;
mod hashing_memory;
mod password_gate;
pub mod settings;
mod stores;
mod users;

pub use app::DemoApp;

pub use password_gate::PasswordGate;
pub use settings::{Flags, ServerLimits, SettingError, Settings};
pub use stores::{error_chain, open_service, redact};
use trusted_devices_core::TrustedDevices;
use trusted_devices_core::dpop::PublicOrigin;
use trusted_devices_core::http::{CookieSettings, DeviceApi};
pub use users::DemoUsers;

/// A started application: its settings and state.
#[derive(Debug)]
pub struct Started {
    /// The validated settings.
    pub settings: Settings,
    /// The service and demo users.
    pub app: DemoApp,
}

/// Logs to standard error; `RUST_LOG` filters (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}

/// Reads the settings and opens everything. A bad setting is one line on standard error
/// naming it, and `None`: the server should exit with status 2.
pub async fn start() -> Option<Started> {
    init_tracing();
    match try_start().await {
        Ok(started) => Some(started),
        Err(error) => {
            eprintln!("error: {error}");
            None
        }
    }
}

async fn try_start() -> Result<Started, SettingError> {
    let settings = Flags::from_command_line()?.settings()?;
    let service = open_service(&settings).await?;
    let users = DemoUsers::new(&settings.demo_users)?;
    let gate = PasswordGate::new(
        settings.limits.password_hash_concurrency,
        settings.limits.password_hash_queue,
    );
    let mut app = DemoApp::new(service, users, gate);
    // The process's one recorder: installing it fails only if another already is.
    match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(handle) => app = app.with_metrics(handle),
        Err(error) => tracing::warn!(%error, "no /metrics: the recorder could not be installed"),
    }
    Ok(Started { app, settings })
}

/// Resolves on Ctrl-C or SIGTERM, for graceful shutdown.
///
/// The handlers are installed when this is called, not when the future is first polled:
/// call it before announcing the address, or a signal sent right after the announcement
/// would kill the process instead of stopping it gracefully.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut terminate, mut interrupt) = signals;
            let terminated = async {
                match terminate.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = terminated => {},
                _ = interrupted => {},
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}

/// The adapters' state for a server listening on `bound`: the service, the trusted
/// proxies, and the browser transport (SPEC §8) with the configured origins, or the
/// server's own; development cookies on loopback unless `TD_COOKIE_MODE` says otherwise.
pub fn device_api(
    service: TrustedDevices,
    settings: &Settings,
    bound: std::net::SocketAddr,
) -> DeviceApi {
    let mut origins = settings.allowed_origins.clone();
    if origins.is_empty() {
        origins.push(format!("http://{bound}"));
        if bound.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", bound.port()));
        }
    }
    let secure = settings.secure_cookies.unwrap_or(!bound.ip().is_loopback());
    let cookies = if secure {
        CookieSettings::new(origins)
    } else {
        CookieSettings::development(origins)
    };
    // Secure cookies mean HTTPS at the edge (a TLS proxy): DPoP proofs name that scheme.
    let scheme = if secure { "https" } else { "http" };
    DeviceApi::new(service)
        .trusted_proxies(settings.trusted_proxies.clone())
        .cookies(cookies)
        .public_scheme(scheme)
        .public_origins(public_origins(settings, scheme, bound))
}

/// `TD_PUBLIC_ORIGIN`, or the listener's own origin (and `localhost` on loopback): the
/// origins a DPoP proof's `htu` may name (SPEC §9).
fn public_origins(
    settings: &Settings,
    scheme: &str,
    bound: std::net::SocketAddr,
) -> Vec<PublicOrigin> {
    if !settings.public_origins.is_empty() {
        return settings.public_origins.clone();
    }
    let mut hosts = vec![bound.to_string()];
    if bound.ip().is_loopback() {
        hosts.push(format!("localhost:{}", bound.port()));
    }
    hosts
        .iter()
        .filter_map(|host| PublicOrigin::from_host(scheme, host.as_bytes()).ok())
        .collect()
}

/// The line a server prints once it listens, which tests and scripts wait for.
pub fn announce(addr: std::net::SocketAddr) {
    println!("listening on http://{addr}");
    tracing::info!(%addr, "listening");
}
