//! The demo application's own routes, `POST /auth/login` and `GET /me`, written once against
//! the core's neutral types; each example server only translates.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use trusted_devices_core::http::{ApiRequest, ApiResponse, DeviceApi, parse_body};
use trusted_devices_core::{
    Authenticated, DeviceId, DeviceInfo, Error, InputError, TrustedDevices, UserId,
};

use metrics_exporter_prometheus::PrometheusHandle;

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
#[derive(Clone)]
pub struct DemoApp {
    /// The trusted-devices service.
    pub service: TrustedDevices,
    users: Arc<DemoUsers>,
    gate: Arc<PasswordGate>,
    metrics: Option<PrometheusHandle>,
}

impl std::fmt::Debug for DemoApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoApp")
            .field("service", &self.service)
            .field("metrics", &self.metrics.is_some())
            .finish_non_exhaustive()
    }
}

impl DemoApp {
    /// The application over `service`, checking passwords through `gate`.
    pub fn new(service: TrustedDevices, users: DemoUsers, gate: PasswordGate) -> Self {
        Self {
            service,
            users: Arc::new(users),
            gate: Arc::new(gate),
            metrics: None,
        }
    }

    /// Serves the counters `handle` renders at `GET /metrics`.
    #[must_use]
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// `GET /metrics`: the library's counters in the Prometheus text format (404 when no
    /// recorder could be installed). Put it behind your network's access rules: it tells
    /// how busy the service is, though never who uses it.
    pub fn metrics(&self) -> ApiResponse {
        let Some(handle) = &self.metrics else {
            return ApiResponse::problem(404, "not_found", "no metrics recorder");
        };
        let mut response = ApiResponse::empty(200);
        response.body = handle.render().into_bytes();
        response.push_header("content-type", "text/plain; version=0.0.4");
        response
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
