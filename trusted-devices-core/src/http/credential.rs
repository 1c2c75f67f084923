//! The one place that picks a request's credential (an `Authorization` header, or with
//! cookies on the access cookie) and applies the origin check to cookie-authenticated
//! changes: the built-in routes and the extractors of an application's own routes both
//! authenticate through [`DeviceApi::authenticate`].

use std::time::Duration;

use crate::error::Error;
use crate::http::{ApiRequest, DeviceApi, DpopInput, RenewalCookie, Scheme, access_token};
use crate::service::{Authenticated, Presented, Via};
use crate::token::Transport;

/// An access token and the transport it came by.
#[derive(Clone, Copy)]
pub(crate) struct Credential<'a> {
    pub(crate) token: &'a str,
    pub(crate) transport: Transport,
    /// Presented as `Authorization: DPoP` (SPEC §9).
    pub(crate) dpop: bool,
}

impl Credential<'_> {
    /// How the token came, as the service reads it.
    pub(crate) fn via(&self) -> Via {
        match (self.transport, self.dpop) {
            (Transport::Cookie, _) => Via::Cookie,
            (Transport::Bearer, true) => Via::Dpop,
            (Transport::Bearer, false) => Via::Bearer,
        }
    }
}

impl DeviceApi {
    /// A request's access token: an `Authorization` header wins; without one, the access
    /// cookie (with cookies on), whose state-changing requests must pass the CSRF guard
    /// first. Neither is `token_missing`.
    pub(crate) fn credential<'a>(
        &self,
        request: &ApiRequest<'a>,
        changes_state: bool,
    ) -> Result<Credential<'a>, Error> {
        let cookie = self
            .cookie_settings()
            .filter(|_| request.authorization.is_none())
            .and_then(|settings| Some((settings, settings.access_token(request.cookie)?)));
        let Some((settings, token)) = cookie else {
            let (token, scheme) = access_token(request.authorization)?;
            return Ok(Credential {
                token,
                transport: Transport::Bearer,
                dpop: scheme == Scheme::Dpop,
            });
        };
        if changes_state {
            settings.check_origin(request.origin, request.sec_fetch_site)?;
        }
        Ok(Credential {
            token,
            transport: Transport::Cookie,
            dpop: false,
        })
    }

    /// The acting device of a request: by its `Authorization` header, or without one by
    /// the access cookie (with cookies on; `changes_state` routes pass the CSRF guard). A
    /// cookie renewal comes back in [`Authenticated::renewal`]; the library's routes write
    /// it back as a cookie, and so do the adapters' extractors on an application's own
    /// routes, through [`renewal_cookie`](Self::renewal_cookie).
    pub async fn authenticate(
        &self,
        request: &ApiRequest<'_>,
        changes_state: bool,
    ) -> Result<Authenticated, Error> {
        let credential = self.credential(request, changes_state)?;
        self.authenticate_credential(credential, request).await
    }

    /// The `Set-Cookie` line that hands a browser its renewed access cookie (SPEC §8: a
    /// cookie request past half its token's life), or `None` when `acting` was not renewed.
    /// An answer that carries it spares the next request another renewal: without it each
    /// request would move the idle deadline and tell the feed again.
    #[must_use]
    pub fn renewal_cookie(&self, acting: &Authenticated) -> Option<RenewalCookie> {
        let renewal = acting.renewal.as_ref()?;
        let settings = self.cookie_settings()?;
        Some(RenewalCookie {
            name: settings.access_name(),
            set_cookie: settings.set_access(
                &renewal.access_token,
                Duration::from_secs(renewal.expires_in),
            ),
        })
    }

    pub(crate) async fn authenticate_credential(
        &self,
        credential: Credential<'_>,
        request: &ApiRequest<'_>,
    ) -> Result<Authenticated, Error> {
        let proof = if credential.dpop {
            self.dpop_request(request)?
        } else {
            None
        };
        let presented = Presented {
            token: credential.token,
            via: credential.via(),
            proof: proof.as_ref().map(DpopInput::request),
        };
        self.service()
            .authenticate(presented, request.client_ip)
            .await
    }
}
