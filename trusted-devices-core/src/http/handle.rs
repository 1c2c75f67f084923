//! Each route of SPEC §6 as a function of the neutral request, with the browser transport
//! of SPEC §8 when cookie settings are given.

use std::time::Duration;

use serde::Serialize;

use crate::domain::DeviceId;
use crate::error::Error;
use crate::http::activity::{ActivityQuery, ActivityView};
use crate::http::body::{self, PatchBody, RefreshBody, VerifyBody};
use crate::http::views::{DeviceView, RevokedView, VerifiedView};
use crate::http::{ApiRequest, ApiResponse, CookieSettings, Endpoint, bearer_token};
use crate::service::{Authenticated, TrustedDevices};
use crate::token::{TokenPair, Transport};

/// What a cookie login or refresh answers instead of a token pair: the tokens are in the
/// `Set-Cookie` headers, out of script's reach.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct CookieSessionView {
    token_type: &'static str,
    expires_in: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    device_id: DeviceId,
}

/// The cookies a response sets, and whether its request was authenticated by cookie.
struct Jar<'s> {
    settings: Option<&'s CookieSettings>,
    set: Vec<String>,
    via_cookie: bool,
}

impl Jar<'_> {
    fn clear(&mut self) {
        if let Some(settings) = self.settings {
            self.set = settings.clear().to_vec();
        }
    }
}

impl TrustedDevices {
    /// Answers one route of SPEC §6 for bearer clients. Every failure is a problem+json
    /// response with the error's code; nothing panics.
    pub async fn handle(&self, endpoint: Endpoint, request: ApiRequest<'_>) -> ApiResponse {
        self.handle_with_cookies(endpoint, request, None).await
    }

    /// Answers one route of SPEC §6; with `cookies`, browsers may also authenticate by the
    /// access cookie and renew by the refresh cookie (SPEC §8), behind the CSRF guard.
    pub async fn handle_with_cookies(
        &self,
        endpoint: Endpoint,
        request: ApiRequest<'_>,
        cookies: Option<&CookieSettings>,
    ) -> ApiResponse {
        let mut jar = Jar {
            settings: cookies,
            set: Vec::new(),
            via_cookie: false,
        };
        let mut response = match self.route(endpoint, request, &mut jar).await {
            Ok(response) => response,
            Err(error) => {
                if jar.via_cookie && ends_the_cookie_session(&error) {
                    jar.clear();
                }
                ApiResponse::error(&error)
            }
        };
        // SPEC §8: every sign-out answer clears both cookies whatever its status, so that
        // a browser never keeps a session it asked to end.
        if endpoint.signs_out() {
            jar.clear();
        }
        for cookie in jar.set {
            response.push_header("set-cookie", cookie);
        }
        response
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

    /// A login's answer on its transport: the token pair as JSON, or for cookie tokens the
    /// two cookies and a body without tokens.
    #[must_use]
    pub fn token_response(
        &self,
        tokens: &TokenPair,
        cookies: Option<&CookieSettings>,
    ) -> ApiResponse {
        match (tokens.refresh_token.transport(), cookies) {
            (Transport::Cookie, Some(settings)) => {
                let mut response = ApiResponse::json(
                    200,
                    &CookieSessionView {
                        token_type: "Cookie",
                        expires_in: tokens.expires_in,
                        device_id: tokens.device_id,
                    },
                );
                let lifetime = Duration::from_secs(tokens.expires_in);
                let access = settings.set_access(&tokens.access_token, lifetime);
                response.push_header("set-cookie", access);
                let refresh = settings.set_refresh(
                    tokens.refresh_token.expose(),
                    self.policy().refresh_idle_timeout(),
                );
                response.push_header("set-cookie", refresh);
                response
            }
            _ => ApiResponse::token_pair(tokens),
        }
    }

    async fn route(
        &self,
        endpoint: Endpoint,
        request: ApiRequest<'_>,
        jar: &mut Jar<'_>,
    ) -> Result<ApiResponse, Error> {
        match endpoint {
            Endpoint::Refresh => self.refresh_route(request, jar).await,
            Endpoint::SignOut => self.sign_out_route(request, jar).await,
            Endpoint::Verify => {
                self.check_verify_rate(request.client_ip).await?;
                let body: VerifyBody = body::parse_body(request.body)?;
                let verified = self.verify(&body.token).await?;
                let view = VerifiedView {
                    valid: true,
                    user_id: verified.device.user_id.as_str(),
                    device_id: verified.device.id,
                    expires_at: verified.expires_at,
                };
                Ok(ApiResponse::json(200, &view))
            }
            Endpoint::ListDevices => {
                let acting = self.acting(endpoint, request, jar).await?;
                let devices = self.list(&acting).await?;
                let views: Vec<DeviceView<'_>> = devices
                    .iter()
                    .map(|device| DeviceView::new(device, acting.device.id))
                    .collect();
                Ok(ApiResponse::json(200, &views))
            }
            Endpoint::GetDevice => {
                let acting = self.acting(endpoint, request, jar).await?;
                let device = self.get(&acting, path_id(request)?).await?;
                Ok(ApiResponse::json(
                    200,
                    &DeviceView::new(&device, acting.device.id),
                ))
            }
            Endpoint::UpdateDevice => {
                let acting = self.acting(endpoint, request, jar).await?;
                let id = path_id(request)?;
                let patch = body::parse_body::<PatchBody>(request.body)?.into_patch()?;
                let device = self.update(&acting, id, &patch).await?;
                Ok(ApiResponse::json(
                    200,
                    &DeviceView::new(&device, acting.device.id),
                ))
            }
            Endpoint::DeleteDevice => {
                let acting = self.acting(endpoint, request, jar).await?;
                let id = path_id(request)?;
                self.delete(&acting, id).await?;
                if jar.via_cookie && id == acting.device.id {
                    jar.clear();
                }
                Ok(ApiResponse::empty(204))
            }
            Endpoint::Logout => {
                self.logout(&self.acting(endpoint, request, jar).await?)
                    .await?;
                Ok(ApiResponse::empty(204))
            }
            Endpoint::RevokeOthers => {
                let acting = self.acting(endpoint, request, jar).await?;
                let revoked = self.revoke_others(&acting).await?;
                Ok(ApiResponse::json(200, &RevokedView { revoked }))
            }
            Endpoint::Activity => {
                let query = ActivityQuery::parse(request.query)?;
                let acting = self.acting(endpoint, request, jar).await?;
                let page = self.activity(&acting, query.cursor, query.limit).await?;
                Ok(ApiResponse::json(200, &ActivityView::new(&page)))
            }
        }
    }

    /// A body names a bearer refresh token; with cookies on, an empty body and the refresh
    /// cookie renew a browser session (behind the CSRF guard) and set both cookies again.
    async fn refresh_route(
        &self,
        request: ApiRequest<'_>,
        jar: &mut Jar<'_>,
    ) -> Result<ApiResponse, Error> {
        let from_cookie = jar.settings.and_then(|settings| {
            let empty = request.body.iter().all(u8::is_ascii_whitespace);
            let token = settings.refresh_token(request.cookie)?;
            empty.then_some((settings, token))
        });
        let ip = request.client_ip;
        if let Some((settings, token)) = from_cookie {
            jar.via_cookie = true;
            settings.check_origin(request.origin, request.sec_fetch_site)?;
            let device = self.check_refresh_rate(ip, token).await?;
            let tokens = self.refresh_for(token, Transport::Cookie, ip).await?;
            self.count_refresh(device, ip).await;
            return Ok(self.token_response(&tokens, Some(settings)));
        }
        let body: RefreshBody = body::parse_body(request.body)?;
        let device = self.check_refresh_rate(ip, &body.refresh_token).await?;
        let tokens = self.refresh(&body.refresh_token, ip).await?;
        self.count_refresh(device, ip).await;
        Ok(ApiResponse::token_pair(&tokens))
    }

    /// Signs out by refresh token: with cookies on, an empty body and the refresh cookie
    /// (behind the CSRF guard), else a body naming a bearer refresh token. A browser
    /// without a refresh cookie has no session left to end: `refresh_token_invalid`.
    async fn sign_out_route(
        &self,
        request: ApiRequest<'_>,
        jar: &mut Jar<'_>,
    ) -> Result<ApiResponse, Error> {
        let empty = request.body.iter().all(u8::is_ascii_whitespace);
        let ip = request.client_ip;
        if let Some(settings) = jar.settings.filter(|_| empty) {
            jar.via_cookie = true;
            settings.check_origin(request.origin, request.sec_fetch_site)?;
            let token = settings
                .refresh_token(request.cookie)
                .ok_or(Error::RefreshTokenInvalid)?;
            self.check_refresh_rate(ip, token).await?;
            self.sign_out(token, Transport::Cookie, ip).await?;
            return Ok(ApiResponse::empty(204));
        }
        let body: RefreshBody = body::parse_body(request.body)?;
        self.check_refresh_rate(ip, &body.refresh_token).await?;
        self.sign_out(&body.refresh_token, Transport::Bearer, ip)
            .await?;
        Ok(ApiResponse::empty(204))
    }

    /// The acting device; authentication comes before any other check of the request. An
    /// `Authorization` header wins; without one, the access cookie (with cookies on), whose
    /// state-changing requests pass the CSRF guard first.
    async fn acting(
        &self,
        endpoint: Endpoint,
        request: ApiRequest<'_>,
        jar: &mut Jar<'_>,
    ) -> Result<Authenticated, Error> {
        let cookie = jar
            .settings
            .filter(|_| request.authorization.is_none())
            .and_then(|settings| Some((settings, settings.access_token(request.cookie)?)));
        let Some((settings, token)) = cookie else {
            return self
                .authenticate_header(request.authorization, request.client_ip)
                .await;
        };
        jar.via_cookie = true;
        if endpoint.changes_state() {
            settings.check_origin(request.origin, request.sec_fetch_site)?;
        }
        let acting = self.authenticate_cookie(token, request.client_ip).await?;
        if let Some(renewal) = &acting.renewal {
            jar.set.push(settings.set_access(
                &renewal.access_token,
                Duration::from_secs(renewal.expires_in),
            ));
        }
        Ok(acting)
    }
}

/// Failures after which a browser's cookies are of no more use: the device is gone or the
/// refresh cookie is refused.
fn ends_the_cookie_session(error: &Error) -> bool {
    matches!(
        error,
        Error::DeviceRevoked
            | Error::RefreshTokenInvalid
            | Error::RefreshTokenExpired
            | Error::RefreshTokenReused
    )
}

/// A malformed id names no device.
fn path_id(request: ApiRequest<'_>) -> Result<DeviceId, Error> {
    request
        .device_id
        .and_then(|id| id.parse().ok())
        .ok_or(Error::DeviceNotFound)
}
