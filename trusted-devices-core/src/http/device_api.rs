use std::net::IpAddr;
use std::sync::Arc;

use crate::domain::{DeviceInfo, truncate_to_bytes};
use crate::dpop::{DpopRequest, ProofError, PublicOrigin};
use crate::error::{Error, InputError};
use crate::geolocation::PROXY_GEO_HEADERS;
use crate::http::{ApiRequest, CookieSettings, TrustedProxies};
use crate::policy::DpopMode;
use crate::service::TrustedDevices;
use crate::token::Transport;

/// A request's DPoP proof with the origins and path it must name, from
/// [`DeviceApi::dpop_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopInput<'a> {
    proof: &'a str,
    method: &'a str,
    path: &'a str,
    origins: Origins,
}

/// The origins a request's proof may name: the operator's, or without any the one of the
/// request's own `Host` (checked to be `host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origins {
    Configured(Arc<[PublicOrigin]>),
    OfHost([PublicOrigin; 1]),
}

impl DpopInput<'_> {
    /// As the service takes it.
    #[must_use]
    pub fn request(&self) -> DpopRequest<'_> {
        let origins = match &self.origins {
            Origins::Configured(origins) => origins,
            Origins::OfHost(origin) => &origin[..],
        };
        DpopRequest {
            proof: self.proof,
            method: self.method,
            origins,
            path: self.path,
        }
    }
}

/// What a web adapter needs: the service and whose forwarding headers to believe. Both the
/// axum and the actix adapters take their state as this type, so they resolve clients the
/// same way. Cheap to clone: one shared allocation, as extractors clone it per request.
#[derive(Debug, Clone)]
pub struct DeviceApi {
    shared: Arc<Shared>,
}

#[derive(Debug, Clone)]
struct Shared {
    service: TrustedDevices,
    proxies: TrustedProxies,
    cookies: Option<CookieSettings>,
    public_scheme: &'static str,
    public_origins: Option<Arc<[PublicOrigin]>>,
}

impl DeviceApi {
    /// The API over `service`, trusting no proxy.
    #[must_use]
    pub fn new(service: TrustedDevices) -> Self {
        Self {
            shared: Arc::new(Shared {
                service,
                proxies: TrustedProxies::none(),
                cookies: None,
                public_scheme: "https",
                public_origins: None,
            }),
        }
    }

    /// Serves browsers too (SPEC §8): tokens in `HttpOnly` cookies on request, behind the
    /// CSRF guard [default: off, bearer clients only].
    #[must_use]
    pub fn cookies(mut self, cookies: CookieSettings) -> Self {
        Arc::make_mut(&mut self.shared).cookies = Some(cookies);
        self
    }

    /// The cookie settings, when the browser transport is on.
    #[must_use]
    pub fn cookie_settings(&self) -> Option<&CookieSettings> {
        self.shared.cookies.as_ref()
    }

    /// The headers [`authenticate`](Self::authenticate) reads besides `Authorization`:
    /// the cookie transport's ([`ApiRequest::COOKIE_HEADERS`]) when it is on, none
    /// otherwise. Adapters copy only these into the request of an application's route.
    #[must_use]
    pub fn authentication_headers(&self) -> &'static [&'static str] {
        let dpop = self.service().policy().dpop() != DpopMode::Off;
        match (self.shared.cookies.is_some(), dpop) {
            (true, true) => &ApiRequest::COOKIE_AND_DPOP_HEADERS,
            (true, false) => &ApiRequest::COOKIE_HEADERS,
            (false, true) => &ApiRequest::DPOP_HEADERS,
            (false, false) => &[],
        }
    }

    /// The origins clients address this API by (`https://api.example.com`), which a DPoP
    /// proof's `htu` must name (SPEC §9) [default: none: the request's own `Host`, when it
    /// is `host[:port]`, with [`public_scheme`](Self::public_scheme)]. Naming them is the
    /// safer choice: a client can then never make the server check a proof against a host
    /// of its choosing. An empty list is the default.
    #[must_use]
    pub fn public_origins(mut self, origins: impl IntoIterator<Item = PublicOrigin>) -> Self {
        let origins: Arc<[PublicOrigin]> = origins.into_iter().collect();
        Arc::make_mut(&mut self.shared).public_origins = Some(origins).filter(|o| !o.is_empty());
        self
    }

    /// The scheme clients address this API by, for DPoP proofs' `htu` when no
    /// [`public_origins`](Self::public_origins) are named: the host comes from the
    /// request's `Host` (or HTTP/2 `:authority`), the scheme from here, since behind a TLS
    /// proxy the server itself only sees plain HTTP [default: `https`].
    #[must_use]
    pub fn public_scheme(mut self, scheme: &'static str) -> Self {
        Arc::make_mut(&mut self.shared).public_scheme = scheme;
        self
    }

    /// The request's DPoP proof and what it must name, when it carries one and DPoP is
    /// not `off`: for [`LoginAttempt::with_proof`](crate::LoginAttempt::with_proof) in an application's login
    /// route (the library's routes and extractors call it themselves). Two `DPoP` headers,
    /// or one that is not text, are `dpop_invalid`.
    pub fn dpop_request<'r>(
        &self,
        request: &ApiRequest<'r>,
    ) -> Result<Option<DpopInput<'r>>, Error> {
        if self.service().policy().dpop() == DpopMode::Off {
            return Ok(None);
        }
        if request.dpop_repeated {
            return Err(Error::DpopInvalid(ProofError::Repeated));
        }
        let Some(proof) = request.dpop else {
            return Ok(None);
        };
        let malformed = || Error::DpopInvalid(ProofError::Malformed);
        let proof = std::str::from_utf8(proof).map_err(|_| malformed())?;
        // A `Host` that is not `host[:port]` is refused even when origins are named: it is
        // a request no honest client sends.
        let of_host = request
            .host
            .map(|host| PublicOrigin::from_host(self.shared.public_scheme, host))
            .transpose()
            .map_err(Error::DpopInvalid)?;
        let origins = match (&self.shared.public_origins, of_host) {
            (Some(configured), _) => Origins::Configured(Arc::clone(configured)),
            (None, Some(origin)) => Origins::OfHost([origin]),
            (None, None) => return Err(malformed()),
        };
        Ok(Some(DpopInput {
            proof: proof.trim(),
            method: request.method,
            path: request.path,
            origins,
        }))
    }

    /// Checks a login request before anything else runs (rule K: a request refused here
    /// counts against nobody's limits) and returns the transport it asked for with
    /// `X-Token-Transport` (`cookie` or `bearer`; absent is bearer).
    ///
    /// SPEC §8: a login is a state change, so whatever its transport it is refused with
    /// `csrf_rejected` when it says `Sec-Fetch-Site: cross-site` or names an `Origin` that
    /// is not allowed (with cookies on; a client that sends no `Origin`, such as a native
    /// app, is not a browser page); a cookie login passes the full guard. A body not sent as
    /// `application/json` is `invalid_request`: a cross-site page can post a form or text
    /// without asking, but not JSON.
    pub fn login_transport(&self, request: &ApiRequest<'_>) -> Result<Transport, Error> {
        let cross_site = request
            .sec_fetch_site
            .is_some_and(|site| site.trim_ascii().eq_ignore_ascii_case(b"cross-site"));
        if cross_site {
            return Err(Error::CsrfRejected);
        }
        if let (Some(settings), Some(origin)) = (self.cookie_settings(), request.origin) {
            settings.check_origin(Some(origin), None)?;
        }
        if !is_json(request.content_type) {
            return Err(InputError::NotJson.into());
        }
        let asked = request.token_transport.map(<[u8]>::trim_ascii);
        match asked {
            None => Ok(Transport::Bearer),
            Some(value) if value.eq_ignore_ascii_case(b"bearer") => Ok(Transport::Bearer),
            Some(value) if value.eq_ignore_ascii_case(b"cookie") => {
                let settings = self.cookie_settings().ok_or(InputError::Malformed {
                    field: "X-Token-Transport",
                })?;
                settings.check_origin(request.origin, request.sec_fetch_site)?;
                Ok(Transport::Cookie)
            }
            Some(_) => Err(InputError::Malformed {
                field: "X-Token-Transport",
            }
            .into()),
        }
    }

    /// Believes the forwarding header of these peers [default: none, the socket peer is the
    /// client]; which header is the proxies' choice ([`TrustedProxies::header`]).
    #[must_use]
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        Arc::make_mut(&mut self.shared).proxies = proxies;
        self
    }

    /// The service.
    #[must_use]
    pub fn service(&self) -> &TrustedDevices {
        &self.shared.service
    }

    /// The client's address for a request from `peer` (unknown without connection info).
    /// `lines` gives every line of a header by its lower-case name, in the order received
    /// (axum: `headers.get_all(name)`); it is called only for a trusted peer.
    pub fn client_ip<'h, L>(
        &self,
        peer: Option<IpAddr>,
        lines: impl FnOnce(&'static str) -> L,
    ) -> Option<IpAddr>
    where
        L: IntoIterator<Item = &'h [u8]>,
    {
        let peer = peer?;
        if !self.shared.proxies.trusts(peer) {
            return Some(self.shared.proxies.client_ip(peer, std::iter::empty()));
        }
        let header = self.shared.proxies.forwarded_header().name();
        Some(self.shared.proxies.client_ip(peer, lines(header)))
    }

    /// What a login knows of the client, for the application's login handler: the
    /// `User-Agent` and client hints (`Sec-CH-UA`, `Sec-CH-UA-Platform`), the
    /// `X-Device-Name` the client asked for (trimmed and cut later, by
    /// [`DeviceName`](crate::DeviceName)), the client IP as [`client_ip`](Self::client_ip)
    /// resolves it from `peer`, and, only when `peer` is a trusted proxy, the CDN
    /// geolocation headers of [`PROXY_GEO_HEADERS`](crate::PROXY_GEO_HEADERS). `lines`
    /// gives every line of a header by lower-case name, as for `client_ip`. Bytes that are
    /// not UTF-8 are replaced, never refused, and each value is cut to
    /// [`LOGIN_HEADER_MAX_BYTES`]: a login does not fail on a device's headers.
    pub fn login_info<'h, L>(
        &self,
        peer: Option<IpAddr>,
        lines: impl Fn(&'static str) -> L,
    ) -> DeviceInfo
    where
        L: IntoIterator<Item = &'h [u8]>,
    {
        let text = |name| {
            let value = lines(name).into_iter().next()?;
            let value = String::from_utf8_lossy(value);
            Some(truncate_to_bytes(&value, LOGIN_HEADER_MAX_BYTES).to_owned())
        };
        let mut info = DeviceInfo::new();
        info.user_agent = text("user-agent");
        info.requested_name = text("x-device-name");
        info.client_hint_brands = text("sec-ch-ua");
        info.client_hint_platform = text("sec-ch-ua-platform");
        info.ip = self.client_ip(peer, &lines);
        if peer.is_some_and(|peer| self.shared.proxies.trusts(peer)) {
            info.proxy_geo_headers = PROXY_GEO_HEADERS
                .iter()
                .filter_map(|name| Some((*name, text(name)?)))
                .collect();
        }
        info
    }
}

/// The most bytes of a login header's value that are kept (longer ones are cut on a
/// character boundary): a User-Agent is stored cut to 512 bytes anyway.
pub const LOGIN_HEADER_MAX_BYTES: usize = 512;

/// Whether a `Content-Type` names JSON: `application/json`, with parameters or not.
fn is_json(content_type: Option<&[u8]>) -> bool {
    content_type.is_some_and(|value| {
        let essence = value.split(|byte| *byte == b';').next().unwrap_or_default();
        essence
            .trim_ascii()
            .eq_ignore_ascii_case(b"application/json")
    })
}
