//! The demo application's own routes, `POST /auth/login` and `GET /me`, written once against
//! the core's neutral types; each example server only translates.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use trusted_devices_core::http::{ApiRequest, ApiResponse, DeviceApi, parse_body};
use trusted_devices_core::{
    Authenticated, DeviceId, DeviceInfo, Error, InputError, TrustedDevices, UserId,
};

use crate::password_gate::PasswordGate;
use crate::users::DemoUsers;

/// The longest password checked, so that hashing cost stays bounded.
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct Me<'a> {
    user_id: &'a str,
    device_id: DeviceId,
}

/// The service and the demo users.
#[derive(Debug, Clone)]
pub struct DemoApp {
    /// The trusted-devices service.
    pub service: TrustedDevices,
    users: Arc<DemoUsers>,
    gate: Arc<PasswordGate>,
}

impl DemoApp {
    /// The application over `service`, checking passwords through `gate`.
    pub fn new(service: TrustedDevices, users: DemoUsers, gate: PasswordGate) -> Self {
        Self {
            service,
            users: Arc::new(users),
            gate: Arc::new(gate),
        }
    }

    /// `POST /auth/login {username, password}`: a token pair (or, with
    /// `X-Token-Transport: cookie`, the two cookies), or 401 `invalid_credentials` for a
    /// wrong name or password alike.
    pub async fn login(
        &self,
        api: &DeviceApi,
        request: &ApiRequest<'_>,
        info: DeviceInfo,
    ) -> ApiResponse {
        match self.try_login(api, request, info).await {
            Ok(response) => response,
            Err(error) => ApiResponse::error(&error),
        }
    }

    async fn try_login(
        &self,
        api: &DeviceApi,
        request: &ApiRequest<'_>,
        info: DeviceInfo,
    ) -> Result<ApiResponse, Error> {
        let transport = api.login_transport(request)?;
        let LoginBody { username, password } = parse_body(request.body)?;
        // Rule K before any password work: per address, and per name from this network.
        self.service
            .check_login_rate(request.client_ip, &username)
            .await?;
        let user_id = UserId::new(username.clone())?;
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(InputError::TooLong {
                field: "password",
                max: MAX_PASSWORD_BYTES,
                unit: "bytes",
            }
            .into());
        }
        let verified = self
            .gate
            .verify(Arc::clone(&self.users), username, password)
            .await?;
        if !verified {
            return Err(Error::InvalidCredentials);
        }
        let login = self.service.login_for(user_id, info, transport).await?;
        Ok(api.token_response(&login.tokens))
    }

    /// `GET /me`: the acting device's user and id.
    pub fn me(acting: &Authenticated) -> ApiResponse {
        let me = Me {
            user_id: acting.device.user_id.as_str(),
            device_id: acting.device.id,
        };
        ApiResponse::json(200, &me)
    }
}
