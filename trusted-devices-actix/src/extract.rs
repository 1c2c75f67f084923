use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use trusted_devices_core::http::ApiRequest;
use trusted_devices_core::{Authenticated, DeviceInfo};

use actix_web::web::Data;

use crate::Devices;
use crate::renewal::leave_renewal;
use crate::response::ApiError;

/// The client's address for this request: the socket peer, or the forwarded client when
/// that peer is a trusted proxy.
#[must_use]
pub fn client_ip(devices: &Devices, request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|addr| addr.ip());
    devices.client_ip(peer, |name| {
        request
            .headers()
            .get_all(name)
            .map(|value| value.as_bytes())
    })
}

/// The core's neutral request for `request` and `body`: the `Authorization` header, the
/// client address and the headers of [`ApiRequest::HEADERS`] (cookie, origin...), and the
/// `{id}` path parameter if the route has one.
#[must_use]
pub fn api_request<'a>(
    devices: &Devices,
    request: &'a HttpRequest,
    body: &'a [u8],
) -> ApiRequest<'a> {
    request_with(devices, request, body, &ApiRequest::HEADERS)
}

/// The neutral request with only the headers `names` copied besides `Authorization`.
fn request_with<'a>(
    devices: &Devices,
    request: &'a HttpRequest,
    body: &'a [u8],
    names: &[&'static str],
) -> ApiRequest<'a> {
    let api_request = ApiRequest {
        device_id: request.match_info().get("id"),
        body,
        client_ip: client_ip(devices, request),
        query: Some(request.query_string()).filter(|query| !query.is_empty()),
        method: request.method().as_str(),
        path: request.path(),
        ..ApiRequest::default()
    };
    let values = |name| {
        request
            .headers()
            .get_all(name)
            .map(|value| value.as_bytes())
    };
    let mut api_request = api_request.with_headers(values, names);
    // HTTP/2 names the host in the URI (`:authority`), not in a `Host` header.
    if api_request.host.is_none() {
        api_request.host = request
            .uri()
            .authority()
            .map(|authority| authority.as_str().as_bytes());
    }
    api_request
}

/// The `Devices` an app registered with [`configure`](crate::configure).
fn registered(request: &HttpRequest) -> Option<Devices> {
    request
        .app_data::<Data<Devices>>()
        .map(|data| Devices::clone(data))
}

/// An app that never called [`configure`](crate::configure) has no device state: a
/// programming error, answered 500 with the fix rather than with a panic (and not as a
/// storage failure, which would send the operator looking at the database).
fn unconfigured() -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(
        "trusted_devices_actix::Devices is not registered: call \
         trusted_devices_actix::configure(&devices, cfg) in App::configure",
    )
}

/// The authenticated acting device, by `Authorization: Bearer` or, with cookies on, by the
/// access cookie (state-changing methods then pass the CSRF guard). Refuses the request
/// with the core's problem+json (`token_missing`, `token_invalid`, `token_expired`,
/// `device_revoked`, 401; `csrf_rejected`, 403) otherwise.
///
/// A cookie renewed on the way (SPEC §8) reaches the browser through the
/// [`write_renewals`](crate::write_renewals) middleware, which an application with cookies
/// on wraps around its routes.
#[derive(Debug, Clone)]
pub struct CurrentDevice(pub Authenticated);

impl FromRequest for CurrentDevice {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The future outlives the borrow: it holds the request (a reference count) instead
        // of copying the headers it reads.
        let request = request.clone();
        Box::pin(async move {
            let devices = registered(&request).ok_or_else(unconfigured)?;
            // Only what authentication reads: this runs on every request of the application.
            let names = devices.authentication_headers();
            let api_request = request_with(&devices, &request, &[], names);
            let changes_state = !request.method().is_safe();
            let acting = devices
                .authenticate(&api_request, changes_state)
                .await
                .map_err(ApiError)?;
            if let Some(renewal) = devices.renewal_cookie(&acting) {
                leave_renewal(&request, renewal);
            }
            Ok(Self(acting))
        })
    }
}

/// What a login knows of the client: the User-Agent and client hints, the client IP
/// (through the trusted proxies), the `X-Device-Name` header and, behind a trusted proxy,
/// its CDN geolocation headers. Refuses only an app that never called
/// [`configure`](crate::configure) (500).
#[derive(Debug, Clone)]
pub struct LoginDevice(pub DeviceInfo);

impl FromRequest for LoginDevice {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(registered(request).ok_or_else(unconfigured).map(|devices| {
            let peer = request.peer_addr().map(|addr| addr.ip());
            let lines = |name| {
                request
                    .headers()
                    .get_all(name)
                    .map(|value| value.as_bytes())
            };
            Self(devices.login_info(peer, lines))
        }))
    }
}

/// The client's address, as [`client_ip`] resolves it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            registered(request)
                .ok_or_else(unconfigured)
                .map(|devices| Self(client_ip(&devices, request))),
        )
    }
}
