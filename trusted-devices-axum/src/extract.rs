use std::net::IpAddr;

use axum::extract::{FromRef, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use trusted_devices_core::http::ApiRequest;
use trusted_devices_core::{Authenticated, DeviceInfo};

use axum::extract::ConnectInfo;

use crate::Devices;
use crate::renewal::{RenewalSlot, leave_renewal};
use crate::response::ApiError;

/// The client's address for these request parts: the socket peer (known when served with
/// `into_make_service_with_connect_info::<SocketAddr>()`), or the forwarded client when
/// that peer is a trusted proxy.
#[must_use]
pub fn client_ip(devices: &Devices, parts: &Parts) -> Option<IpAddr> {
    devices.client_ip(peer(parts), |name| {
        parts
            .headers
            .get_all(name)
            .iter()
            .map(|value| value.as_bytes())
    })
}

/// The socket peer, when served with connection info.
fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The core's neutral request for these parts and `body`: the `Authorization` header, the
/// client address and the headers of [`ApiRequest::HEADERS`] (cookie, origin...); the
/// caller sets `device_id` where its route has one.
#[must_use]
pub fn api_request<'a>(devices: &Devices, parts: &'a Parts, body: &'a [u8]) -> ApiRequest<'a> {
    request_with(devices, parts, body, &ApiRequest::HEADERS)
}

/// The neutral request with only the headers `names` copied besides `Authorization`.
fn request_with<'a>(
    devices: &Devices,
    parts: &'a Parts,
    body: &'a [u8],
    names: &[&'static str],
) -> ApiRequest<'a> {
    // The path the client addressed: a nested router strips its prefix from `parts.uri`
    // but keeps the original (SPEC §9: a DPoP proof's `htu` names the original).
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(parts.uri.path(), |original| original.0.path());
    let request = ApiRequest {
        body,
        client_ip: client_ip(devices, parts),
        query: parts.uri.query(),
        method: parts.method.as_str(),
        path,
        ..ApiRequest::default()
    };
    let values = |name| {
        parts
            .headers
            .get_all(name)
            .iter()
            .map(|value| value.as_bytes())
    };
    let mut request = request.with_headers(values, names);
    // HTTP/2 names the host in the URI (`:authority`), not in a `Host` header.
    if request.host.is_none() {
        request.host = parts
            .uri
            .authority()
            .map(|authority| authority.as_str().as_bytes());
    }
    request
}

/// The authenticated acting device, by `Authorization: Bearer` or, with cookies on, by the
/// access cookie (state-changing methods then pass the CSRF guard). Refuses the request
/// with the core's problem+json (`token_missing`, `token_invalid`, `token_expired`,
/// `device_revoked`, 401; `csrf_rejected`, 403) otherwise.
///
/// A cookie renewed on the way (SPEC §8) reaches the browser through the
/// [`WriteRenewals`](crate::WriteRenewals) layer, which an application with cookies on
/// puts over its routes.
#[derive(Debug, Clone)]
pub struct CurrentDevice(pub Authenticated);

impl<S> FromRequestParts<S> for CurrentDevice
where
    Devices: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let devices = Devices::from_ref(state);
        // Only what authentication reads: this runs on every request of the application.
        let request = request_with(&devices, parts, &[], devices.authentication_headers());
        let changes_state = !parts.method.is_safe();
        let acting = devices.authenticate(&request, changes_state).await?;
        if let Some(renewal) = devices.renewal_cookie(&acting) {
            leave_renewal(parts.extensions.get::<RenewalSlot>(), renewal);
        }
        Ok(Self(acting))
    }
}

/// What a login knows of the client: the User-Agent and client hints, the client IP
/// (through the trusted proxies), the `X-Device-Name` header and, behind a trusted proxy,
/// its CDN geolocation headers. Never refuses a request.
#[derive(Debug, Clone)]
pub struct LoginDevice(pub DeviceInfo);

impl<S> FromRequestParts<S> for LoginDevice
where
    Devices: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let devices = Devices::from_ref(state);
        let lines = |name| {
            parts
                .headers
                .get_all(name)
                .iter()
                .map(|value| value.as_bytes())
        };
        Ok(Self(devices.login_info(peer(parts), lines)))
    }
}

/// The client's address, as [`client_ip`] resolves it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    Devices: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(&Devices::from_ref(state), parts)))
    }
}
