//! Each route of SPEC §6 as a function of the neutral request, with the browser transport
//! of SPEC §8 when cookie settings are given. Only translation lives here: every rule
//! (rule K's limits included) runs in the service the routes call.

use std::time::Duration;

use crate::domain::DeviceId;
use crate::error::Error;
use crate::http::activity::{ActivityQuery, ActivityView};
use crate::http::body::{self, PatchBody, RefreshBody, VerifyBody};
use crate::http::views::{
    ConfirmationView, CookieSessionView, DeviceView, RevokedView, VerifiedView,
};
use crate::http::{ApiRequest, ApiResponse, CookieSettings, DeviceApi, DpopInput, Endpoint};
use crate::service::{Authenticated, Presented};
use crate::token::{TokenPair, Transport};

/// The cookies a response sets, and whether its request was authenticated by cookie.
struct Jar<'s> {
    settings: Option<&'s CookieSettings>,
    set: Vec<String>,
    via_cookie: bool,
    /// A fresh server nonce for the answer's `DPoP-Nonce` header (SPEC §9).
    dpop_nonce: Option<String>,
}

impl Jar<'_> {
    fn clear(&mut self) {
        if let Some(settings) = self.settings {
            self.set = settings.clear().to_vec();
        }
    }
}

impl DeviceApi {
    /// Answers one route of SPEC §6 (and §8 when cookies are on: browsers may also
    /// authenticate by the access cookie and renew by the refresh cookie, behind the CSRF
    /// guard). Every failure is a problem+json response with the error's code; nothing
    /// panics.
    pub async fn handle(&self, endpoint: Endpoint, request: ApiRequest<'_>) -> ApiResponse {
        let mut jar = Jar {
            settings: self.cookie_settings(),
            set: Vec::new(),
            via_cookie: false,
            dpop_nonce: None,
        };
        let mut response = match self.route(endpoint, request, &mut jar).await {
            Ok(mut response) => {
                if let Some(nonce) = jar.dpop_nonce.take() {
                    response.push_header("dpop-nonce", nonce);
                }
                response
            }
            Err(error) => {
                if jar.via_cookie && ends_the_cookie_session(&error) {
                    jar.clear();
                }
                if endpoint.issues_tokens() {
                    ApiResponse::token_route_error(&error)
                } else {
                    ApiResponse::error(&error)
                }
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

    /// A login's answer on its transport: the token pair as JSON, or for cookie tokens
    /// (with cookies on) the two cookies and a body without tokens.
    #[must_use]
    pub fn token_response(&self, tokens: &TokenPair) -> ApiResponse {
        match (tokens.refresh_token.transport(), self.cookie_settings()) {
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
                    self.service().policy().refresh_idle_timeout(),
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
        let service = self.service();
        match endpoint {
            Endpoint::Refresh => self.refresh_route(request, jar).await,
            Endpoint::SignOut => self.sign_out_route(request, jar).await,
            Endpoint::Verify => {
                let body: VerifyBody = body::parse_body(request.body)?;
                let verified = service.verify(&body.token, request.client_ip).await?;
                let view = VerifiedView {
                    valid: true,
                    user_id: verified.device.user_id.as_str(),
                    device_id: verified.device.id,
                    expires_at: verified.expires_at,
                    cnf: verified
                        .device
                        .dpop_jkt
                        .as_ref()
                        .map(|jkt| ConfirmationView { jkt: jkt.as_str() }),
                };
                Ok(ApiResponse::json(200, &view))
            }
            Endpoint::ListDevices => {
                let acting = self.acting(endpoint, request, jar).await?;
                let devices = service.list(&acting).await?;
                let views: Vec<DeviceView<'_>> = devices
                    .iter()
                    .map(|device| DeviceView::new(device, acting.device.id))
                    .collect();
                Ok(ApiResponse::json(200, &views))
            }
            Endpoint::GetDevice => {
                let acting = self.acting(endpoint, request, jar).await?;
                let device = service.get(&acting, path_id(request)?).await?;
                Ok(ApiResponse::json(
                    200,
                    &DeviceView::new(&device, acting.device.id),
                ))
            }
            Endpoint::UpdateDevice => {
                let acting = self.acting(endpoint, request, jar).await?;
                let id = path_id(request)?;
                let patch = body::parse_body::<PatchBody>(request.body)?.into_patch()?;
                let device = service.update(&acting, id, &patch).await?;
                Ok(ApiResponse::json(
                    200,
                    &DeviceView::new(&device, acting.device.id),
                ))
            }
            Endpoint::DeleteDevice => {
                let acting = self.acting(endpoint, request, jar).await?;
                let id = path_id(request)?;
                service.delete(&acting, id).await?;
                if jar.via_cookie && id == acting.device.id {
                    jar.clear();
                }
                Ok(ApiResponse::empty(204))
            }
            Endpoint::Logout => {
                service
                    .logout(&self.acting(endpoint, request, jar).await?)
                    .await?;
                Ok(ApiResponse::empty(204))
            }
            Endpoint::RevokeOthers => {
                let acting = self.acting(endpoint, request, jar).await?;
                let revoked = service.revoke_others(&acting).await?;
                Ok(ApiResponse::json(200, &RevokedView { revoked }))
            }
            Endpoint::Activity => {
                let query = ActivityQuery::parse(request.query)?;
                let acting = self.acting(endpoint, request, jar).await?;
                let page = service.activity(&acting, query.cursor, query.limit).await?;
                Ok(ApiResponse::json(200, &ActivityView::new(&page)))
            }
        }
    }

    /// The refresh token of a refresh or sign-out, with its transport and the request's
    /// DPoP proof: with cookies on, an empty body means the refresh cookie (behind the CSRF
    /// guard; none is `refresh_token_invalid`), otherwise the body names a bearer refresh
    /// token.
    fn refresh_credential<'r>(
        &self,
        request: ApiRequest<'r>,
        jar: &mut Jar<'_>,
    ) -> Result<(String, Transport, Option<DpopInput<'r>>), Error> {
        let empty = request.body.iter().all(u8::is_ascii_whitespace);
        let (token, transport) = match jar.settings.filter(|_| empty) {
            Some(settings) => {
                jar.via_cookie = true;
                settings.check_origin(request.origin, request.sec_fetch_site)?;
                let token = settings
                    .refresh_token(request.cookie)
                    .ok_or(Error::RefreshTokenInvalid)?;
                (token.to_owned(), Transport::Cookie)
            }
            None => {
                let body: RefreshBody = body::parse_body(request.body)?;
                (body.refresh_token, Transport::Bearer)
            }
        };
        Ok((token, transport, self.dpop_request(&request)?))
    }

    /// Rule R; a cookie refresh sets both cookies again.
    async fn refresh_route(
        &self,
        request: ApiRequest<'_>,
        jar: &mut Jar<'_>,
    ) -> Result<ApiResponse, Error> {
        let (token, transport, proof) = self.refresh_credential(request, jar)?;
        let tokens = self
            .service()
            .refresh(
                Presented::new(&token, transport)
                    .with_proof(proof.as_ref().map(DpopInput::request)),
                request.client_ip,
            )
            .await?;
        // RFC 9449 section 8: a token endpoint may hand out the next nonce with each answer.
        jar.dpop_nonce = self.service().dpop_nonce();
        Ok(self.token_response(&tokens))
    }

    /// Signs out by refresh token (SPEC §8).
    async fn sign_out_route(
        &self,
        request: ApiRequest<'_>,
        jar: &mut Jar<'_>,
    ) -> Result<ApiResponse, Error> {
        let (token, transport, proof) = self.refresh_credential(request, jar)?;
        self.service()
            .sign_out(
                Presented::new(&token, transport)
                    .with_proof(proof.as_ref().map(DpopInput::request)),
                request.client_ip,
            )
            .await?;
        Ok(ApiResponse::empty(204))
    }

    /// The acting device; authentication comes before any other check of the request. A
    /// cookie renewal is written back as a fresh access cookie.
    async fn acting(
        &self,
        endpoint: Endpoint,
        request: ApiRequest<'_>,
        jar: &mut Jar<'_>,
    ) -> Result<Authenticated, Error> {
        let credential = self.credential(&request, endpoint.changes_state())?;
        jar.via_cookie = credential.transport == Transport::Cookie;
        let acting = self.authenticate_credential(credential, &request).await?;
        if let Some(renewal) = self.renewal_cookie(&acting) {
            jar.set.push(renewal.set_cookie);
        }
        jar.dpop_nonce.clone_from(&acting.dpop_nonce);
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
