//! The trusted-devices example server on axum (SPEC §7): the device routes of SPEC §6, plus
//! `POST /auth/login` for the demo users and `GET /me`, on SQLite by default.
//!
//! `cargo run -p trusted-devices-example-axum`, then see the README's walk-through.

use std::net::SocketAddr;
use std::process::ExitCode;

use trusted_devices_axum::axum::body::Bytes;
use trusted_devices_axum::axum::extract::{FromRef, State};
use trusted_devices_axum::axum::response::Response;
use trusted_devices_axum::axum::routing::{get, post};
use trusted_devices_axum::axum::{self, Router};
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
    let app = app(devices, started.app).into_make_service_with_connect_info::<SocketAddr>();
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
