use std::net::IpAddr;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use trusted_devices_core::{Authenticated, DeviceInfo};

use axum::extract::ConnectInfo;

use crate::Devices;
use crate::response::ApiError;

/// The client's address for these request parts: the socket peer (known when served with
/// `into_make_service_with_connect_info::<SocketAddr>()`), or the forwarded client when
/// that peer is a trusted proxy.
#[must_use]
pub fn client_ip(devices: &Devices, parts: &Parts) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    devices.client_ip(peer, |name| {
        parts
            .headers
            .get_all(name)
            .iter()
            .map(|value| value.as_bytes())
    })
}

/// The authenticated acting device. Refuses the request with the core's problem+json
/// (`token_missing`, `token_invalid`, `token_expired`, `device_revoked`, 401) otherwise.
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
        let authorization = parts
            .headers
            .get(AUTHORIZATION)
            .map(|value| value.as_bytes());
        let client_ip = client_ip(&devices, parts);
        let acting = devices
            .service()
            .authenticate_header(authorization, client_ip)
            .await?;
        Ok(Self(acting))
    }
}

/// What a login knows of the client: the User-Agent, the client IP (through the trusted
/// proxies) and the `X-Device-Name` header. Never refuses a request.
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
        let text = |name| {
            parts
                .headers
                .get(name)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        };
        let mut info = DeviceInfo::new();
        info.user_agent = text(USER_AGENT.as_str());
        info.requested_name = text("x-device-name");
        info.ip = client_ip(&devices, parts);
        Ok(Self(info))
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
