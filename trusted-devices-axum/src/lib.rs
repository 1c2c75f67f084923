//! # trusted-devices-axum
//!
//! The axum adapter of trusted-devices. It holds no policy: each route translates the
//! request into the core's [`ApiRequest`](trusted_devices_core::http::ApiRequest), lets
//! [`TrustedDevices::handle`] answer, and writes the response back, so this crate and the
//! actix one answer byte for byte the same.
//!
//! - [`Devices`]: the adapter's state, the service and the trusted proxies (the core's
//!   `DeviceApi`, shared with the actix adapter). [`router`] serves every route of SPEC §6
//!   with it; nest or merge it where you like.
//! - [`CurrentDevice`]: an extractor for the authenticated acting device, in any handler
//!   whose state gives a [`Devices`] through `FromRef`.
//! - [`LoginDevice`]: an extractor of what a login knows of the client (User-Agent, client
//!   IP, `X-Device-Name`), for the application's own login handler.
//! - [`ApiError`]: any core error as an RFC 9457 problem+json response.
//!
//! The client IP is the socket peer (serve with
//! `into_make_service_with_connect_info::<SocketAddr>()`), and comes from
//! `X-Forwarded-For` / `Forwarded` only when that peer is one of the configured
//! [`TrustedProxies`]. Bodies are limited to
//! [`MAX_BODY_BYTES`](trusted_devices_core::http::MAX_BODY_BYTES).
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use axum::{Json, Router, routing::get};
//! use trusted_devices_axum::{CurrentDevice, Devices};
//! use trusted_devices_core::{KeyRing, SigningKey, TrustedDevices};
//!
//! async fn whoami(CurrentDevice(acting): CurrentDevice) -> String {
//!     format!("{} on {}", acting.device.user_id, acting.device.name)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
//! let devices = Devices::new(TrustedDevices::builder(KeyRing::new(key)).build());
//! let app = Router::new()
//!     .route("/whoami", get(whoami))
//!     .with_state(devices.clone())
//!     .merge(trusted_devices_axum::router(&devices));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(()) }
//! ```
//!
//! [`TrustedDevices::handle`]: trusted_devices_core::TrustedDevices::handle
//! [`TrustedProxies`]: trusted_devices_core::http::TrustedProxies

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod extract;
mod response;
mod router;

pub use extract::{ClientIp, CurrentDevice, LoginDevice, api_request, client_ip};
pub use response::{ApiError, into_response};
pub use router::router;
/// The adapter's state: the service and the trusted proxies (the core's [`DeviceApi`]).
///
/// [`DeviceApi`]: trusted_devices_core::http::DeviceApi
pub use trusted_devices_core::http::DeviceApi as Devices;

/// The web framework, re-exported so that applications use the same version.
pub use axum;
