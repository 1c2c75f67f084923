use std::fmt;
use std::net::IpAddr;

use crate::error::Error;

/// What a route needs of an HTTP request, borrowed from the framework's request.
#[derive(Clone, Copy, Default)]
pub struct ApiRequest<'a> {
    /// The raw `Authorization` header, if any.
    pub authorization: Option<&'a [u8]>,
    /// The `{id}` path parameter, if the route has one.
    pub device_id: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
    /// The client address, as the adapter resolved it.
    pub client_ip: Option<IpAddr>,
    /// Every `Cookie` field of the request (SPEC §8): HTTP/2 sends each cookie in a field of
    /// its own, and a planted cookie must not win by coming first.
    pub cookie: CookieFields<'a>,
    /// The raw `Origin` header, if any.
    pub origin: Option<&'a [u8]>,
    /// The raw `Sec-Fetch-Site` header, if any.
    pub sec_fetch_site: Option<&'a [u8]>,
    /// The raw `X-Token-Transport` header, if any: `cookie` asks a login for cookies.
    pub token_transport: Option<&'a [u8]>,
    /// The raw `Content-Type` header, if any: a login's body must be JSON.
    pub content_type: Option<&'a [u8]>,
    /// The raw query string (after `?`), if any: `GET /devices/activity` reads it.
    pub query: Option<&'a str>,
    /// The method, as sent (`GET`): what a DPoP proof's `htm` must name.
    pub method: &'a str,
    /// The path, without the query: with [`host`](Self::host), what a DPoP proof's `htu`
    /// must name.
    pub path: &'a str,
    /// The raw `Host` header, if any.
    pub host: Option<&'a [u8]>,
    /// The raw `DPoP` header, if any (SPEC §9).
    pub dpop: Option<&'a [u8]>,
    /// Whether the request carried more than one `DPoP` header (refused).
    pub dpop_repeated: bool,
}

impl<'a> ApiRequest<'a> {
    /// The header names besides `Authorization` that an adapter copies into a request, with
    /// the field each fills: adapters loop over this instead of naming each header.
    pub const HEADERS: [&'static str; 7] = [
        "cookie",
        "origin",
        "sec-fetch-site",
        "x-token-transport",
        "content-type",
        "host",
        "dpop",
    ];

    /// The headers of the cookie transport's authentication and CSRF guard (SPEC §8).
    pub const COOKIE_HEADERS: [&'static str; 3] = ["cookie", "origin", "sec-fetch-site"];

    /// The headers a DPoP proof is checked with (SPEC §9).
    pub const DPOP_HEADERS: [&'static str; 2] = ["host", "dpop"];

    /// Both of the above.
    pub const COOKIE_AND_DPOP_HEADERS: [&'static str; 5] =
        ["cookie", "origin", "sec-fetch-site", "host", "dpop"];

    /// Fills `Authorization` and the headers `names` (some of [`HEADERS`](Self::HEADERS))
    /// from `header`, which gives a header's values by its lower-case name (an `Option`
    /// of the first value will do, but then a repeated `DPoP` header goes unseen): every
    /// adapter reads its framework's headers through this one loop.
    #[must_use]
    pub fn with_headers<I>(
        mut self,
        header: impl Fn(&'static str) -> I,
        names: &[&'static str],
    ) -> Self
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        self.authorization = header("authorization").into_iter().next();
        for name in names {
            let mut values = header(name).into_iter();
            if *name == "cookie" {
                self.cookie = values.collect();
                continue;
            }
            if let Some(value) = values.next() {
                self.set_header(name, value);
                if *name == "dpop" && values.next().is_some() {
                    self.dpop_repeated = true;
                }
            }
        }
        self
    }

    /// Sets the field for `name` (one of [`HEADERS`](Self::HEADERS)) to `value`.
    pub fn set_header(&mut self, name: &str, value: &'a [u8]) {
        match name {
            "cookie" => self.cookie.push(value),
            "origin" => self.origin = Some(value),
            "sec-fetch-site" => self.sec_fetch_site = Some(value),
            "x-token-transport" => self.token_transport = Some(value),
            "content-type" => self.content_type = Some(value),
            "host" => self.host = Some(value),
            "dpop" => self.dpop = Some(value),
            _ => {}
        }
    }
}

impl fmt::Debug for ApiRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest")
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .field("device_id", &self.device_id)
            .field("body_len", &self.body.len())
            .field("client_ip", &self.client_ip)
            .field("cookie", &self.cookie)
            .field("origin", &self.origin.map(String::from_utf8_lossy))
            .field(
                "sec_fetch_site",
                &self.sec_fetch_site.map(String::from_utf8_lossy),
            )
            .field(
                "token_transport",
                &self.token_transport.map(String::from_utf8_lossy),
            )
            .field(
                "content_type",
                &self.content_type.map(String::from_utf8_lossy),
            )
            .field("method", &self.method)
            .field("path", &self.path)
            .field("host", &self.host.map(String::from_utf8_lossy))
            .field("dpop", &self.dpop.map(|_| "<proof>"))
            .finish()
    }
}

/// The `Cookie` fields of a request, borrowed: up to [`MAX`](Self::MAX) of
/// them; a request with more is ambiguous and yields no cookie token. Its `Debug` shows
/// only how many there are.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct CookieFields<'a> {
    fields: [Option<&'a [u8]>; CookieFields::MAX],
    overflow: bool,
}

impl<'a> CookieFields<'a> {
    /// The most `Cookie` fields read; a request with more yields no cookie token.
    pub const MAX: usize = 8;

    /// Adds one field (beyond [`MAX`](Self::MAX), marks the request ambiguous).
    pub fn push(&mut self, field: &'a [u8]) {
        match self.fields.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(field),
            None => self.overflow = true,
        }
    }

    /// The fields, in the order received; `None` for a request with more than
    /// [`MAX`](Self::MAX), which is read as having no cookie token.
    #[must_use]
    pub fn fields(&self) -> Option<impl Iterator<Item = &'a [u8]> + '_> {
        (!self.overflow).then(|| self.fields.iter().flatten().copied())
    }

    /// Whether the request sent no `Cookie` field.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !self.overflow && self.fields.iter().all(Option::is_none)
    }
}

impl<'a> From<&'a [u8]> for CookieFields<'a> {
    /// One `Cookie` field.
    fn from(field: &'a [u8]) -> Self {
        let mut fields = Self::default();
        fields.push(field);
        fields
    }
}

impl<'a> From<Option<&'a [u8]>> for CookieFields<'a> {
    /// One `Cookie` field, or none.
    fn from(field: Option<&'a [u8]>) -> Self {
        field.map(Self::from).unwrap_or_default()
    }
}

impl<'a> FromIterator<&'a [u8]> for CookieFields<'a> {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(fields: I) -> Self {
        let mut all = Self::default();
        for field in fields {
            all.push(field);
        }
        all
    }
}

impl fmt::Debug for CookieFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.fields.iter().flatten().count();
        write!(
            f,
            "CookieFields({count} redacted{})",
            if self.overflow { ", more" } else { "" }
        )
    }
}

/// How an access token was presented in `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Bearer <token>`.
    Bearer,
    /// `DPoP <token>`, with a proof in the `DPoP` header (SPEC §9).
    Dpop,
}

/// The token of an `Authorization: Bearer <token>` or `DPoP <token>` header (schemes
/// case-insensitive), and which it was. No header, or another scheme, is `token_missing`;
/// a header that is not UTF-8 or a scheme with nothing after it is `token_invalid`.
pub fn access_token(authorization: Option<&[u8]>) -> Result<(&str, Scheme), Error> {
    let header = authorization.ok_or(Error::TokenMissing)?;
    let header = std::str::from_utf8(header).map_err(|_| Error::TokenInvalid)?;
    let (scheme, token) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return Err(Error::TokenMissing);
    };
    match token.trim() {
        "" => Err(Error::TokenInvalid),
        token => Ok((token, scheme)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_t_bearer_header_forms() {
        let bearer = |header: &'static [u8]| access_token(Some(header)).ok();
        assert_eq!(bearer(b"Bearer abc"), Some(("abc", Scheme::Bearer)));
        assert_eq!(bearer(b"bearer   abc "), Some(("abc", Scheme::Bearer)));
        assert_eq!(bearer(b"DPoP abc"), Some(("abc", Scheme::Dpop)));
        assert!(matches!(access_token(None), Err(Error::TokenMissing)));
        assert!(matches!(
            access_token(Some(b"Basic eDp5")),
            Err(Error::TokenMissing)
        ));
        assert!(matches!(
            access_token(Some(b"Bearer ")),
            Err(Error::TokenInvalid)
        ));
        assert!(matches!(
            access_token(Some(b"Bearer \xff")),
            Err(Error::TokenInvalid)
        ));
    }
}
