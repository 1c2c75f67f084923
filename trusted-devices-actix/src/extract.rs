use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, USER_AGENT};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use trusted_devices_core::{Authenticated, DeviceInfo, Error, StorageError};

use crate::response::ApiError;
use crate::state::Devices;

/// An app that never called `Devices::configure` has no device state: a server
/// misconfiguration, answered 503 rather than with a panic.
fn unconfigured() -> ApiError {
    ApiError(Error::from(StorageError::corrupt(
        "trusted_devices_actix::Devices is not registered: call Devices::configure",
    )))
}

/// The authenticated acting device. Refuses the request with the core's problem+json
/// (`token_missing`, `token_invalid`, `token_expired`, `device_revoked`, 401) otherwise.
#[derive(Debug, Clone)]
pub struct CurrentDevice(pub Authenticated);

impl FromRequest for CurrentDevice {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let devices = Devices::of(request);
        let authorization = request
            .headers()
            .get(AUTHORIZATION)
            .map(|value| value.as_bytes().to_vec());
        let client_ip = devices
            .as_ref()
            .and_then(|devices| devices.client_ip(request));
        Box::pin(async move {
            let devices = devices.ok_or_else(unconfigured)?;
            let acting = devices
                .service()
                .authenticate_header(authorization.as_deref(), client_ip)
                .await?;
            Ok(Self(acting))
        })
    }
}

/// What a login knows of the client: the User-Agent, the client IP (through the trusted
/// proxies) and the `X-Device-Name` header. Never refuses a request.
#[derive(Debug, Clone)]
pub struct LoginDevice(pub DeviceInfo);

impl FromRequest for LoginDevice {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let text = |name: &str| {
            request
                .headers()
                .get(name)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        };
        let mut info = DeviceInfo::new();
        info.user_agent = text(USER_AGENT.as_str());
        info.requested_name = text("x-device-name");
        info.ip = Devices::of(request).and_then(|devices| devices.client_ip(request));
        ready(Ok(Self(info)))
    }
}

/// The client's address, as [`Devices::client_ip`] resolves it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(
            Devices::of(request).and_then(|devices| devices.client_ip(request)),
        )))
    }
}
