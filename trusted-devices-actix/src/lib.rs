//! # trusted-devices-actix
//!
//! The actix-web 4 adapter of trusted-devices. Like the axum adapter it holds no policy: each
//! route translates the request into the core's
//! [`ApiRequest`](trusted_devices_core::http::ApiRequest), lets
//! [`TrustedDevices::handle`] answer, and writes the response back, so both frameworks
//! answer byte for byte the same.
//!
//! - [`Devices`]: the service and the trusted proxies (the core's `DeviceApi`, shared with
//!   the axum adapter). [`configure`] mounts every route of SPEC §6 on an `App` or a
//!   `Scope`, and registers the state as app data.
//! - [`CurrentDevice`]: an extractor for the authenticated acting device.
//! - [`LoginDevice`]: what a login knows of the client (User-Agent, client IP,
//!   `X-Device-Name`), for the application's own login handler.
//! - [`ApiError`]: any core error as an RFC 9457 problem+json response.
//!
//! The client IP is the socket peer, and comes from `X-Forwarded-For` / `Forwarded` only when
//! that peer is one of the configured [`TrustedProxies`]. Bodies are limited to
//! [`MAX_BODY_BYTES`](trusted_devices_core::http::MAX_BODY_BYTES).
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use trusted_devices_actix::{CurrentDevice, Devices};
//! use trusted_devices_core::{KeyRing, SigningKey, TrustedDevices};
//!
//! async fn whoami(CurrentDevice(acting): CurrentDevice) -> String {
//!     format!("{} on {}", acting.device.user_id, acting.device.name)
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap();
//! let devices = Devices::new(TrustedDevices::builder(KeyRing::new(key)).build());
//! HttpServer::new(move || {
//!     App::new()
//!         .configure(|cfg| trusted_devices_actix::configure(&devices, cfg))
//!         .route("/whoami", web::get().to(whoami))
//! })
//! .bind("127.0.0.1:3000")?
//! .run()
//! .await
//! # }
//! ```
//!
//! [`TrustedDevices::handle`]: trusted_devices_core::TrustedDevices::handle
//! [`TrustedProxies`]: trusted_devices_core::http::TrustedProxies

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod extract;
mod response;
mod routes;

pub use extract::{ClientIp, CurrentDevice, LoginDevice, api_request, client_ip};
pub use response::{ApiError, into_response, read_body};
pub use routes::configure;
/// The adapter's state: the service and the trusted proxies (the core's [`DeviceApi`]).
///
/// [`DeviceApi`]: trusted_devices_core::http::DeviceApi
pub use trusted_devices_core::http::DeviceApi as Devices;

/// The web framework, re-exported so that applications use the same version.
pub use actix_web;
