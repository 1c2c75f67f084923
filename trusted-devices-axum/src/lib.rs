//! # trusted-devices-axum
//!
//! The axum adapter of trusted-devices. It holds no policy: each route translates the
//! request into the core's [`ApiRequest`](trusted_devices_core::http::ApiRequest), lets
//! [`DeviceApi::handle`] answer, and writes the response back, so this crate and the
//! actix one answer byte for byte the same.
//!
//! - [`Devices`]: the adapter's state, the service and the trusted proxies (the core's
//!   `DeviceApi`, shared with the actix adapter). [`router`] serves every route of SPEC §6
//!   with it; nest or merge it where you like.
//! - [`CurrentDevice`]: an extractor for the authenticated acting device, in any handler
//!   whose state gives a [`Devices`] through `FromRef`.
//! - [`LoginDevice`]: an extractor of what a login knows of the client (User-Agent, client
//!   IP, `X-Device-Name`), for the application's own login handler.
//! - [`JsonBody`]: a JSON body refused exactly as the library's routes refuse theirs.
//! - [`Tokens`]: a token pair as the JSON answer of a login.
//! - [`spawn_cleanup`]: rule C every so often, with a stop handle. Nothing expires in
//!   storage by itself: run it (or call `cleanup` from your own scheduler).
//! - [`ApiError`]: any core error as an RFC 9457 problem+json response; `?` works on the
//!   core's `Error` and `InputError` in handlers.
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
//! ## Your login handler
//!
//! The library never sees a password: the application asks
//! [`TrustedDevices::attempt_login`] first (rule K's limits, so that every wrong password
//! counts), then checks the password, then logs the device in with the attempt and answers
//! the pair. This is the one way to log in with a password: checking the password before
//! the attempt would leave guessing unlimited. A client's DPoP proof, if it sends one, is
//! checked with `LoginAttempt::with_proof` before the password too (see the example
//! server). A wrong name and a wrong password get the same `invalid_credentials`.
//!
//! ```
//! use axum::{Router, extract::State, routing::post};
//! use serde::Deserialize;
//! use trusted_devices_axum::{ApiError, Devices, JsonBody, LoginDevice, Tokens};
//! use trusted_devices_core::{Error, KeyRing, SigningKey, TrustedDevices};
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Credentials {
//!     username: String,
//!     password: String,
//! }
//!
//! async fn login(
//!     State(devices): State<Devices>,
//!     LoginDevice(info): LoginDevice,
//!     JsonBody(credentials): JsonBody<Credentials>,
//! ) -> Result<Tokens, ApiError> {
//!     // Rule K first: the name validated, then limits per address and per name.
//!     let attempt = devices
//!         .service()
//!         .attempt_login(&credentials.username, info.ip)
//!         .await?;
//!     // Your password check (argon2, bounded in concurrency: see the example server).
//!     let right = attempt.user().as_str() == "alice" && credentials.password == "alice-password";
//!     if !right {
//!         return Err(Error::InvalidCredentials.into());
//!     }
//!     Ok(attempt.login(info).await?.into())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use axum::body::{Body, to_bytes};
//! # use axum::http::Request;
//! # use tower::ServiceExt;
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
//! let devices = Devices::new(TrustedDevices::builder(KeyRing::new(key)).build());
//! let app = Router::new()
//!     .route("/auth/login", post(login))
//!     .with_state(devices.clone())
//!     .merge(trusted_devices_axum::router(&devices));
//!
//! let post_login = |body: &'static str| {
//!     Request::post("/auth/login").body(Body::from(body))
//! };
//! let ok = app.clone().oneshot(post_login(r#"{"username":"alice","password":"alice-password"}"#)?).await?;
//! assert_eq!(ok.status(), 200);
//! assert_eq!(ok.headers()["cache-control"], "no-store");
//! let pair: serde_json::Value = serde_json::from_slice(&to_bytes(ok.into_body(), 4096).await?)?;
//! assert_eq!(pair["token_type"], "Bearer");
//!
//! let wrong = app.clone().oneshot(post_login(r#"{"username":"alice","password":"guess"}"#)?).await?;
//! assert_eq!(wrong.status(), 401);
//! let array = app.oneshot(post_login(r#"["alice","alice-password"]"#)?).await?;
//! assert_eq!(array.status(), 422);
//! # Ok(()) }
//! ```
//!
//! ## A browser login (cookies)
//!
//! For a browser, turn cookies on ([`CookieSettings`]) and let the login answer by
//! transport: [`DeviceApi::login_transport`] applies SPEC §8's origin check and reads
//! `X-Token-Transport: cookie`; [`TrustedDevices::attempt_login`] counts rule K's limits
//! before your password check; [`DeviceApi::token_response`] answers two `HttpOnly`
//! cookies (or the JSON pair for a bearer client). Routes with [`CurrentDevice`] then
//! accept the access cookie, and the [`WriteRenewals`] layer hands back its renewals.
//!
//! ```
//! use axum::body::Bytes;
//! use axum::extract::State;
//! use axum::http::request::Parts;
//! use axum::response::Response;
//! use axum::{Router, routing::{get, post}};
//! use trusted_devices_axum::{ApiError, CurrentDevice, Devices, LoginDevice, WriteRenewals};
//! use trusted_devices_axum::{api_request, into_response};
//! use trusted_devices_core::http::{CookieSettings, parse_body};
//! use trusted_devices_core::{Error, KeyRing, LoginRequest, SigningKey, TrustedDevices};
//!
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Credentials {
//!     username: String,
//!     password: String,
//! }
//!
//! async fn login(
//!     State(devices): State<Devices>,
//!     LoginDevice(info): LoginDevice,
//!     parts: Parts,
//!     body: Bytes,
//! ) -> Result<Response, ApiError> {
//!     let request = api_request(&devices, &parts, &body);
//!     let transport = devices.login_transport(&request)?;
//!     let credentials: Credentials = parse_body(&body)?;
//!     let attempt = devices
//!         .service()
//!         .attempt_login(&credentials.username, request.client_ip)
//!         .await?;
//!     // Your password check, after the limits.
//!     if credentials.password != "alice-password" {
//!         return Err(Error::InvalidCredentials.into());
//!     }
//!     let login = attempt.login(LoginRequest::new(info).transport(transport)).await?;
//!     Ok(into_response(devices.token_response(&login.tokens)))
//! }
//!
//! async fn me(CurrentDevice(acting): CurrentDevice) -> String {
//!     acting.device.user_id.to_string()
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use axum::body::{Body, to_bytes};
//! # use axum::http::Request;
//! # use tower::ServiceExt;
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
//! let devices = Devices::new(TrustedDevices::builder(KeyRing::new(key)).build())
//!     .cookies(CookieSettings::new(vec!["https://app.example.com".into()]));
//! let app = Router::new()
//!     .route("/auth/login", post(login))
//!     .route("/me", get(me).layer(WriteRenewals))
//!     .with_state(devices.clone())
//!     .merge(trusted_devices_axum::router(&devices));
//!
//! let signed_in = app
//!     .clone()
//!     .oneshot(
//!         Request::post("/auth/login")
//!             .header("content-type", "application/json")
//!             .header("origin", "https://app.example.com")
//!             .header("x-token-transport", "cookie")
//!             .body(Body::from(r#"{"username":"alice","password":"alice-password"}"#))?,
//!     )
//!     .await?;
//! assert_eq!(signed_in.status(), 200);
//! let cookies: Vec<String> = signed_in
//!     .headers()
//!     .get_all("set-cookie")
//!     .iter()
//!     .filter_map(|cookie| Some(cookie.to_str().ok()?.split(';').next()?.to_owned()))
//!     .collect();
//! assert!(cookies.iter().any(|cookie| cookie.starts_with("__Host-td_access=")));
//! let body: serde_json::Value = serde_json::from_slice(&to_bytes(signed_in.into_body(), 4096).await?)?;
//! assert!(body.get("access_token").is_none(), "no token where script can read it");
//!
//! let me = app
//!     .oneshot(Request::get("/me").header("cookie", cookies.join("; ")).body(Body::empty())?)
//!     .await?;
//! assert_eq!(me.status(), 200);
//! # Ok(()) }
//! ```
//!
//! [`DeviceApi::handle`]: trusted_devices_core::http::DeviceApi::handle
//! [`DeviceApi::login_transport`]: trusted_devices_core::http::DeviceApi::login_transport
//! [`DeviceApi::token_response`]: trusted_devices_core::http::DeviceApi::token_response
//! [`TrustedDevices::attempt_login`]: trusted_devices_core::TrustedDevices::attempt_login
//! [`CookieSettings`]: trusted_devices_core::http::CookieSettings
//! [`TrustedDevices::login`]: trusted_devices_core::TrustedDevices::login
//! [`TrustedProxies`]: trusted_devices_core::http::TrustedProxies

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cleanup;
mod extract;
mod json;
#[cfg(feature = "page")]
mod page;
mod renewal;
mod response;
mod router;

pub use cleanup::{CleanupTask, spawn_cleanup};
pub use extract::{ClientIp, CurrentDevice, LoginDevice, api_request, client_ip};
pub use json::JsonBody;
#[cfg(feature = "page")]
pub use page::page_router;
pub use renewal::{WithRenewal, WriteRenewals, WriteRenewalsService};
pub use response::{ApiError, Tokens, into_response};
pub use router::router;
/// The adapter's state: the service and the trusted proxies (the core's [`DeviceApi`]).
///
/// [`DeviceApi`]: trusted_devices_core::http::DeviceApi
pub use trusted_devices_core::http::DeviceApi as Devices;

/// The web framework, re-exported so that applications use the same version, with its
/// `macros` feature. axum's derive and attribute macros (`#[derive(FromRef)]`,
/// `#[debug_handler]`) expand to `::axum::…` paths, which a re-export cannot provide: to use
/// them, also depend on `axum = "0.8"` directly (cargo unifies the two into one crate), as
/// the example server does.
pub use axum;
