//! The trusted-devices example server on axum (SPEC §7): the device routes of SPEC §6, plus
//! `POST /auth/login` for the demo users and `GET /me`, on SQLite by default.
//!
//! `cargo run -p trusted-devices-example-axum`, then see the README's walk-through.

mod serve;

use std::process::ExitCode;

use trusted_devices_axum::axum::Router;
use trusted_devices_axum::axum::body::Bytes;
use trusted_devices_axum::axum::extract::{FromRef, State};
use trusted_devices_axum::axum::response::Response;
use trusted_devices_axum::axum::routing::{get, post};
use trusted_devices_axum::{CurrentDevice, Devices, LoginDevice, into_response};
use trusted_devices_example_common::{DemoApp, announce, shutdown_signal, start};

#[derive(Clone)]
struct AppState {
    devices: Devices,
    demo: DemoApp,
}

impl FromRef<AppState> for Devices {
    fn from_ref(state: &AppState) -> Self {
        state.devices.clone()
    }
}

async fn login(
    State(state): State<AppState>,
    LoginDevice(info): LoginDevice,
    body: Bytes,
) -> Response {
    into_response(state.demo.login(&body, info).await)
}

async fn me(CurrentDevice(acting): CurrentDevice) -> Response {
    into_response(DemoApp::me(&acting))
}

async fn health() -> &'static str {
    "ok"
}

fn app(devices: Devices, demo: DemoApp) -> Router {
    let state = AppState {
        devices: devices.clone(),
        demo,
    };
    Router::new()
        .route("/auth/login", post(login))
        .route("/me", get(me))
        .route("/health", get(health))
        .with_state(state)
        .merge(trusted_devices_axum::router(&devices))
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(started) = start().await else {
        return ExitCode::from(2);
    };
    let devices = Devices::new(started.app.service.clone())
        .trusted_proxies(started.settings.trusted_proxies.clone());
    let addr = started.settings.addr;
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: TD_ADDR: cannot listen on {addr}: {error}");
            return ExitCode::from(2);
        }
    };
    let shutdown = shutdown_signal();
    if let Ok(bound) = listener.local_addr() {
        announce(bound);
    }
    let limits = started.settings.limits;
    serve::serve(listener, app(devices, started.app), limits, shutdown).await;
    ExitCode::SUCCESS
}
