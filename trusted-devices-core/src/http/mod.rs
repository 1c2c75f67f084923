//! Framework-neutral HTTP handling of every route of SPEC §6.
//!
//! A web adapter registers each [`Endpoint`] at its [`method`](Endpoint::method) and
//! [`path`](Endpoint::path), builds an [`ApiRequest`] from the request (raw `Authorization`
//! header, `{id}` path parameter, body bytes, client address), calls
//! [`DeviceApi::handle`] and writes the [`ApiResponse`] back as it is. No policy and no
//! status mapping lives in the adapters, and none lives here either: this layer only
//! translates, and every rule (rule K's limits included) runs in the service, so an
//! application's own route that calls the service gets the same rules.
//!
//! Choices where SPEC is silent:
//! - bodies are limited to [`MAX_BODY_BYTES`]; a larger one is `invalid_request` (400);
//! - JSON that does not parse is 400; JSON with wrong types or unknown fields, JSON that is
//!   not an object, and `null` for an optional field are 422;
//! - a malformed `{id}` names no device: `device_not_found` (404);
//! - an `Authorization` header of another scheme than `Bearer` is `token_missing`;
//! - problem `type`s are `urn:trusted-devices:problem:<code>`;
//! - every response, errors included, is sent with `Cache-Control: no-store` (RFC 6749
//!   §5.1 asks it of token pairs; device data and refusals are no less private);
//! - client addresses come through [`TrustedProxies`]: every line of the one configured
//!   forwarding header, from trusted peers only.

mod activity;
mod body;
mod client_ip;
mod cookies;
mod credential;
mod device_api;
mod endpoint;
mod handle;
#[cfg(feature = "openapi")]
pub mod openapi;
#[cfg(feature = "page")]
pub mod page;
mod request;
mod response;
#[cfg(feature = "openapi")]
mod schema;
mod views;

pub use body::{MAX_BODY_BYTES, parse_body};
pub use client_ip::{BadProxy, ForwardedHeader, TrustedProxies};
pub use cookies::{CookieSettings, RenewalCookie};
pub use device_api::{DeviceApi, DpopInput, LOGIN_HEADER_MAX_BYTES};
pub use endpoint::Endpoint;
pub use request::{ApiRequest, CookieFields, Scheme, access_token};
pub use response::ApiResponse;
pub use views::{DeviceView, LocationView};
