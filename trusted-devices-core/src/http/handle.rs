//! Each route of SPEC §6 as a function of the neutral request.

use crate::domain::DeviceId;
use crate::error::Error;
use crate::http::body::{self, PatchBody, RefreshBody, VerifyBody};
use crate::http::views::{DeviceView, RevokedView, VerifiedView};
use crate::http::{ApiRequest, ApiResponse, Endpoint, bearer_token};
use crate::service::{Authenticated, TrustedDevices};

impl TrustedDevices {
    /// Answers one route of SPEC §6. Every failure is a problem+json response with the
    /// error's code; nothing panics.
    pub async fn handle(&self, endpoint: Endpoint, request: ApiRequest<'_>) -> ApiResponse {
        match self.route(endpoint, request).await {
            Ok(response) => response,
            Err(error) => ApiResponse::error(&error),
        }
    }

    /// Authenticates a request from its raw `Authorization` header: for adapters'
    /// extractors of the acting device.
    pub async fn authenticate_header(
        &self,
        authorization: Option<&[u8]>,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<Authenticated, Error> {
        self.authenticate(bearer_token(authorization)?, client_ip)
            .await
    }

    async fn route(
        &self,
        endpoint: Endpoint,
        request: ApiRequest<'_>,
    ) -> Result<ApiResponse, Error> {
        match endpoint {
            Endpoint::Refresh => {
                let body: RefreshBody = body::parse_body(request.body)?;
                let tokens = self.refresh(&body.refresh_token, request.client_ip).await?;
                Ok(ApiResponse::token_pair(&tokens))
            }
            Endpoint::Verify => {
                let body: VerifyBody = body::parse_body(request.body)?;
                let verified = self.verify(&body.token).await?;
                let view = VerifiedView {
                    valid: true,
                    user_id: &verified.user_id,
                    device_id: verified.device_id,
                    expires_at: verified.expires_at,
                };
                Ok(ApiResponse::json(200, &view))
            }
            Endpoint::ListDevices => {
                let acting = self.acting(request).await?;
                let devices = self.list(&acting).await?;
                let views: Vec<DeviceView<'_>> = devices
                    .iter()
                    .map(|device| DeviceView::new(device, acting.device.id))
                    .collect();
                Ok(ApiResponse::json(200, &views))
            }
            Endpoint::GetDevice => {
                let acting = self.acting(request).await?;
                let device = self.get(&acting, path_id(request)?).await?;
                Ok(ApiResponse::json(
                    200,
                    &DeviceView::new(&device, acting.device.id),
                ))
            }
            Endpoint::UpdateDevice => {
                let acting = self.acting(request).await?;
                let id = path_id(request)?;
                let patch = body::parse_body::<PatchBody>(request.body)?.into_patch()?;
                let device = self.update(&acting, id, &patch).await?;
                Ok(ApiResponse::json(
                    200,
                    &DeviceView::new(&device, acting.device.id),
                ))
            }
            Endpoint::DeleteDevice => {
                let acting = self.acting(request).await?;
                self.delete(&acting, path_id(request)?).await?;
                Ok(ApiResponse::empty(204))
            }
            Endpoint::Logout => {
                self.logout(&self.acting(request).await?).await?;
                Ok(ApiResponse::empty(204))
            }
            Endpoint::RevokeOthers => {
                let revoked = self.revoke_others(&self.acting(request).await?).await?;
                Ok(ApiResponse::json(200, &RevokedView { revoked }))
            }
        }
    }

    /// The acting device; authentication comes before any other check of the request.
    async fn acting(&self, request: ApiRequest<'_>) -> Result<Authenticated, Error> {
        self.authenticate_header(request.authorization, request.client_ip)
            .await
    }
}

/// A malformed id names no device.
fn path_id(request: ApiRequest<'_>) -> Result<DeviceId, Error> {
    request
        .device_id
        .and_then(|id| id.parse().ok())
        .ok_or(Error::DeviceNotFound)
}
