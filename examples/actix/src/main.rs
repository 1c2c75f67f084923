//! The trusted-devices example server on actix-web (SPEC §7): the device routes of SPEC §6,
//! plus `POST /auth/login` for the demo users and `GET /me`, on SQLite by default. Same
//! settings and answers as the axum server.
//!
//! `cargo run -p trusted-devices-example-actix`

use std::process::ExitCode;

use trusted_devices_actix::actix_web::web::{self, Data, Payload};
use trusted_devices_actix::actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use trusted_devices_actix::{
    ApiError, CleanupTask, CurrentDevice, Devices, LoginDevice, api_request, into_response,
    read_body,
};
use trusted_devices_example_common::{
    DemoApp, Started, announce, device_api, shutdown_signal, start,
};

async fn login(
    demo: Data<DemoApp>,
    devices: Data<Devices>,
    LoginDevice(info): LoginDevice,
    request: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload).await?;
    let api = api_request(&devices, &request, &body);
    Ok(into_response(demo.login(&devices, &api, info).await))
}

async fn me(CurrentDevice(acting): CurrentDevice) -> HttpResponse {
    into_response(DemoApp::me(&acting))
}

async fn health() -> &'static str {
    "ok"
}

async fn metrics(demo: Data<DemoApp>) -> HttpResponse {
    into_response(demo.metrics())
}

/// `GET /metrics` on the listener `TD_METRICS_ADDR` names, apart from the public one.
fn serve_metrics(
    addr: std::net::SocketAddr,
    demo: Data<DemoApp>,
) -> Result<actix_web::dev::ServerHandle, ExitCode> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(demo.clone())
            .route("/metrics", web::get().to(metrics))
    })
    .workers(1)
    .disable_signals()
    .bind(addr)
    .map_err(|error| {
        eprintln!("error: TD_METRICS_ADDR: cannot listen on {addr}: {error}");
        ExitCode::from(2)
    })?;
    let running = server.run();
    let handle = running.handle();
    actix_web::rt::spawn(running);
    Ok(handle)
}

async fn openapi(demo: Data<DemoApp>) -> HttpResponse {
    into_response(demo.openapi())
}

/// actix counts the shutdown deadline in whole seconds: never round a deadline down to none.
fn whole_seconds_up(duration: std::time::Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Rule C every `TD_CLEANUP_INTERVAL` (`0s`: never).
fn start_cleanup(started: &Started) -> Option<CleanupTask> {
    let interval = started.settings.cleanup_interval;
    let service = started.app.service.clone();
    (!interval.is_zero()).then(|| trusted_devices_actix::spawn_cleanup(service, interval))
}

/// Lets the cleanup finish its batch in progress, within the shutdown deadline.
async fn stop_cleanup(cleanup: Option<CleanupTask>, deadline: std::time::Duration) {
    if let Some(cleanup) = cleanup {
        let _ = tokio::time::timeout(deadline, cleanup.stop()).await;
    }
}

#[actix_web::main]
async fn main() -> ExitCode {
    let Some(started) = start().await else {
        return ExitCode::from(2);
    };
    let addr = started.settings.addr;
    let listener = match std::net::TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: TD_ADDR: cannot listen on {addr}: {error}");
            return ExitCode::from(2);
        }
    };
    let bound_addr = listener.local_addr().unwrap_or(addr);
    let devices = device_api(started.app.service.clone(), &started.settings, bound_addr);
    let started_limits = started.settings.limits;
    let cleanup = start_cleanup(&started);
    let started_metrics = started.settings.metrics_addr;
    let demo = Data::new(started.app);
    let demo_for_metrics = demo.clone();
    let server = HttpServer::new(move || {
        App::new()
            // Cookie renewals made on the application's routes (`/me`) reach the browser.
            .wrap(actix_web::middleware::from_fn(
                trusted_devices_actix::write_renewals,
            ))
            .app_data(demo.clone())
            .configure(|config| trusted_devices_actix::configure(&devices, config))
            .route("/auth/login", web::post().to(login))
            .route("/me", web::get().to(me))
            .route("/health", web::get().to(health))
            .route("/openapi.json", web::get().to(openapi))
            // The "Your devices" page, with its security headers: one call (feature `page`).
            .configure(trusted_devices_actix::configure_page)
    })
    // A client slower than this to send its request head is disconnected.
    .client_request_timeout(started_limits.header_read_timeout)
    // After a signal, in-flight requests may finish within the shutdown deadline.
    .shutdown_timeout(whole_seconds_up(started_limits.shutdown_timeout))
    // Our own handlers, installed before the announcement, as in the axum server.
    .disable_signals();
    let server = match server.listen(listener) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: TD_ADDR: cannot listen on {addr}: {error}");
            return ExitCode::from(2);
        }
    };
    let metrics_handle = match started_metrics.map(|addr| serve_metrics(addr, demo_for_metrics)) {
        Some(Ok(handle)) => Some(handle),
        Some(Err(code)) => return code,
        None => None,
    };
    let bound = server.addrs();
    let running = server.run();
    let handle = running.handle();
    let shutdown = shutdown_signal();
    tokio::spawn(async move {
        shutdown.await;
        if let Some(metrics) = metrics_handle {
            metrics.stop(true).await;
        }
        handle.stop(true).await;
    });
    if let Some(bound) = bound.first() {
        announce(*bound);
    }
    let served = running.await;
    stop_cleanup(cleanup, started_limits.shutdown_timeout).await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
