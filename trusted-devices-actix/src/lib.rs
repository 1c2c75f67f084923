//! # trusted-devices-actix
//!
//! The actix-web 4 adapter of trusted-devices. Like the axum adapter it holds no policy: each
//! route translates the request into the core's
//! [`ApiRequest`](trusted_devices_core::http::ApiRequest), lets
//! [`DeviceApi::handle`] answer, and writes the response back, so both frameworks
//! answer byte for byte the same.
//!
//! - [`Devices`]: the service and the trusted proxies (the core's `DeviceApi`, shared with
//!   the axum adapter). [`configure`] mounts every route of SPEC §6 on an `App` or a
//!   `Scope`, and registers the state as app data.
//! - [`CurrentDevice`]: an extractor for the authenticated acting device.
//! - [`LoginDevice`]: what a login knows of the client (User-Agent, client IP,
//!   `X-Device-Name`), for the application's own login handler.
//! - [`JsonBody`]: a JSON body refused exactly as the library's routes refuse theirs.
//! - [`Tokens`]: a token pair as the JSON answer of a login.
//! - [`spawn_cleanup`]: rule C every so often, with a stop handle. Nothing expires in
//!   storage by itself: run it (or call `cleanup` from your own scheduler).
//! - [`ApiError`]: any core error as an RFC 9457 problem+json response; `?` works on the
//!   core's `Error` and `InputError` in handlers.
//!
//! An app that uses the extractors without calling [`configure`] gets 500 with a message
//! naming the fix: a programming error, not a storage failure.
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
//! use actix_web::{App, test, web};
//! use serde::Deserialize;
//! use trusted_devices_actix::{ApiError, Devices, JsonBody, LoginDevice, Tokens};
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
//!     devices: web::Data<Devices>,
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
//! # #[actix_web::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
//! let devices = Devices::new(TrustedDevices::builder(KeyRing::new(key)).build());
//! let app = test::init_service(
//!     App::new()
//!         .configure(|cfg| trusted_devices_actix::configure(&devices, cfg))
//!         .route("/auth/login", web::post().to(login)),
//! )
//! .await;
//!
//! let post_login = |body: &'static str| {
//!     test::TestRequest::post().uri("/auth/login").set_payload(body).to_request()
//! };
//! let ok = test::call_service(&app, post_login(r#"{"username":"alice","password":"alice-password"}"#)).await;
//! assert_eq!(ok.status(), 200);
//! assert_eq!(ok.headers().get("cache-control").unwrap(), "no-store");
//! let pair: serde_json::Value = test::read_body_json(ok).await;
//! assert_eq!(pair["token_type"], "Bearer");
//!
//! let wrong = test::call_service(&app, post_login(r#"{"username":"alice","password":"guess"}"#)).await;
//! assert_eq!(wrong.status(), 401);
//! let array = test::call_service(&app, post_login(r#"["alice","alice-password"]"#)).await;
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
//! accept the access cookie, and the [`write_renewals`] middleware hands back its renewals.
//!
//! ```
//! use actix_web::middleware::from_fn;
//! use actix_web::{App, HttpRequest, HttpResponse, test, web};
//! use trusted_devices_actix::{ApiError, CurrentDevice, Devices, LoginDevice};
//! use trusted_devices_actix::{api_request, into_response, read_body, write_renewals};
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
//!     devices: web::Data<Devices>,
//!     LoginDevice(info): LoginDevice,
//!     request: HttpRequest,
//!     payload: web::Payload,
//! ) -> Result<HttpResponse, ApiError> {
//!     let body = read_body(payload).await?;
//!     let api = api_request(&devices, &request, &body);
//!     let transport = devices.login_transport(&api)?;
//!     let credentials: Credentials = parse_body(&body)?;
//!     let attempt = devices
//!         .service()
//!         .attempt_login(&credentials.username, api.client_ip)
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
//! # #[actix_web::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
//! let devices = Devices::new(TrustedDevices::builder(KeyRing::new(key)).build())
//!     .cookies(CookieSettings::new(vec!["https://app.example.com".into()]));
//! let app = test::init_service(
//!     App::new()
//!         .wrap(from_fn(write_renewals))
//!         .configure(|cfg| trusted_devices_actix::configure(&devices, cfg))
//!         .route("/auth/login", web::post().to(login))
//!         .route("/me", web::get().to(me)),
//! )
//! .await;
//!
//! let sign_in = test::TestRequest::post()
//!     .uri("/auth/login")
//!     .insert_header(("content-type", "application/json"))
//!     .insert_header(("origin", "https://app.example.com"))
//!     .insert_header(("x-token-transport", "cookie"))
//!     .set_payload(r#"{"username":"alice","password":"alice-password"}"#)
//!     .to_request();
//! let signed_in = test::call_service(&app, sign_in).await;
//! assert_eq!(signed_in.status(), 200);
//! let cookies: Vec<String> = signed_in
//!     .headers()
//!     .get_all("set-cookie")
//!     .filter_map(|cookie| Some(cookie.to_str().ok()?.split(';').next()?.to_owned()))
//!     .collect();
//! assert!(cookies.iter().any(|cookie| cookie.starts_with("__Host-td_access=")));
//! let body: serde_json::Value = test::read_body_json(signed_in).await;
//! assert!(body.get("access_token").is_none(), "no token where script can read it");
//!
//! let me = test::TestRequest::get()
//!     .uri("/me")
//!     .insert_header(("cookie", cookies.join("; ")))
//!     .to_request();
//! assert_eq!(test::call_service(&app, me).await.status(), 200);
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
mod routes;

pub use cleanup::{CleanupTask, spawn_cleanup};
pub use extract::{ClientIp, CurrentDevice, LoginDevice, api_request, client_ip};
pub use json::JsonBody;
#[cfg(feature = "page")]
pub use page::configure_page;
pub use renewal::write_renewals;
pub use response::{ApiError, Tokens, into_response, read_body};
pub use routes::configure;
/// The adapter's state: the service and the trusted proxies (the core's [`DeviceApi`]).
///
/// [`DeviceApi`]: trusted_devices_core::http::DeviceApi
pub use trusted_devices_core::http::DeviceApi as Devices;

/// The web framework, re-exported so that applications use the same version.
pub use actix_web;
