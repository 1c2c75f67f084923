//! The trusted-devices example server on axum (SPEC §7): the device routes of SPEC §6, plus
//! `POST /auth/login` for the demo users and `GET /me`, on SQLite by default.
//!
//! `cargo run -p trusted-devices-example-axum`, then see the README's walk-through.

mod serve;

use std::process::ExitCode;

use trusted_devices_axum::axum::Router;
use trusted_devices_axum::axum::body::Bytes;
use trusted_devices_axum::axum::extract::{FromRef, State};
use trusted_devices_axum::axum::http::request::Parts;
use trusted_devices_axum::axum::response::Response;
use trusted_devices_axum::axum::routing::{get, post};
use trusted_devices_axum::{CurrentDevice, Devices, LoginDevice, api_request, into_response};
use trusted_devices_example_common::{DemoApp, announce, device_api, shutdown_signal, start};

/// `FromRef` gives each handler the part it names (`State<Devices>`, the extractors).
#[derive(Clone, FromRef)]
struct AppState {
    devices: Devices,
    demo: DemoApp,
}

async fn login(
    State(state): State<AppState>,
    LoginDevice(info): LoginDevice,
    parts: Parts,
    body: Bytes,
) -> Response {
    let request = api_request(&state.devices, &parts, &body);
    into_response(state.demo.login(&state.devices, &request, info).await)
}

async fn me(CurrentDevice(acting): CurrentDevice) -> Response {
    into_response(DemoApp::me(&acting))
}

async fn health() -> &'static str {
    "ok"
}

async fn metrics(State(demo): State<DemoApp>) -> Response {
    into_response(demo.metrics())
}

/// `GET /metrics` on the listener `TD_METRICS_ADDR` names, apart from the public one.
async fn serve_metrics(addr: std::net::SocketAddr, demo: DemoApp) -> Result<(), ExitCode> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| {
        eprintln!("error: TD_METRICS_ADDR: cannot listen on {addr}: {error}");
        ExitCode::from(2)
    })?;
    let router = Router::new()
        .route("/metrics", get(metrics))
        .with_state(demo);
    tokio::spawn(async move {
        if let Err(error) = trusted_devices_axum::axum::serve(listener, router).await {
            tracing::warn!(%error, "the metrics listener stopped");
        }
    });
    Ok(())
}

async fn openapi(State(state): State<AppState>) -> Response {
    into_response(state.demo.openapi())
}

fn app(devices: Devices, demo: DemoApp) -> Router {
    let state = AppState {
        devices: devices.clone(),
        demo,
    };
    Router::new()
        .route("/auth/login", post(login))
        // Cookie renewals made on `/me` reach the browser (SPEC §8); only the routes that
        // authenticate need the layer.
        .route("/me", get(me).layer(trusted_devices_axum::WriteRenewals))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .with_state(state)
        .merge(trusted_devices_axum::router(&devices))
        // The "Your devices" page, with its security headers: one call (feature `page`).
        .merge(trusted_devices_axum::page_router())
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(started) = start().await else {
        return ExitCode::from(2);
    };
    let addr = started.settings.addr;
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: TD_ADDR: cannot listen on {addr}: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(metrics_addr) = started.settings.metrics_addr
        && let Err(code) = serve_metrics(metrics_addr, started.app.clone()).await
    {
        return code;
    }
    let bound = listener.local_addr().unwrap_or(addr);
    let devices = device_api(started.app.service.clone(), &started.settings, bound);
    let shutdown = shutdown_signal();
    announce(bound);
    let limits = started.settings.limits;
    let interval = started.settings.cleanup_interval;
    // Rule C every `TD_CLEANUP_INTERVAL` (`0s`: never).
    let cleanup = (!interval.is_zero())
        .then(|| trusted_devices_axum::spawn_cleanup(started.app.service.clone(), interval));
    serve::serve(listener, app(devices, started.app), limits, shutdown).await;
    if let Some(cleanup) = cleanup {
        // The batch in progress may finish, within the shutdown deadline.
        let _ = tokio::time::timeout(limits.shutdown_timeout, cleanup.stop()).await;
    }
    ExitCode::SUCCESS
}
