//! The browser transport (SPEC §8): tokens in `HttpOnly` cookies, never in script-readable
//! storage, and the allowed-origin guard every cookie-authenticated change passes.
//!
//! - Access token: `__Host-td_access`, `HttpOnly; Secure; SameSite=Lax; Path=/`, living as
//!   long as the token.
//! - Refresh token: `__Secure-td_refresh`, `HttpOnly; Secure; SameSite=Strict`, with `Path`
//!   the refresh route only, so it is never sent elsewhere; living as long as the idle
//!   timeout.
//! - [`CookieSettings::development`] drops `Secure` and the prefixes (`td_access`,
//!   `td_refresh`) for plain HTTP on loopback.
//!
//! A client asks for cookies at login with the header `X-Token-Transport: cookie`; it
//! renews by `POST /auth/refresh` with an empty body (the refresh cookie is the credential).
//! `SameSite` alone does not protect a deployment whose other sites share its *site* (every
//! port of 127.0.0.1 is one site), so every state-changing request authenticated by a
//! cookie must also come from an allowed origin: its `Origin` header, or without one
//! `Sec-Fetch-Site: same-origin`; anything else is 403 `csrf_rejected`, before any change.

use std::time::Duration;

use cookie::{Cookie, SameSite};

use crate::error::Error;
use crate::http::CookieFields;
use crate::http::Endpoint;

/// Where and how cookies are set, and which origins may send cookie-authenticated changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSettings {
    secure: bool,
    allowed_origins: Vec<String>,
}

impl CookieSettings {
    /// `Secure`, `__Host-` / `__Secure-` prefixed cookies, accepted from these origins
    /// (`https://app.example.com`: scheme, host and port, no path).
    #[must_use]
    pub fn new(allowed_origins: Vec<String>) -> Self {
        Self {
            secure: true,
            allowed_origins: normalise(allowed_origins),
        }
    }

    /// For plain HTTP on loopback only: no `Secure` attribute and no name prefixes, which
    /// browsers refuse without HTTPS. Never use it on a public address.
    #[must_use]
    pub fn development(allowed_origins: Vec<String>) -> Self {
        Self {
            secure: false,
            allowed_origins: normalise(allowed_origins),
        }
    }

    /// Whether cookies carry `Secure` and the name prefixes.
    #[must_use]
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The origins whose cookie-authenticated changes are accepted.
    #[must_use]
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The access cookie's name.
    #[must_use]
    pub fn access_name(&self) -> &'static str {
        if self.secure {
            "__Host-td_access"
        } else {
            "td_access"
        }
    }

    /// The refresh cookie's name.
    #[must_use]
    pub fn refresh_name(&self) -> &'static str {
        if self.secure {
            "__Secure-td_refresh"
        } else {
            "td_refresh"
        }
    }

    /// `Set-Cookie` for an access token living `max_age`.
    #[must_use]
    pub fn set_access(&self, token: &str, max_age: Duration) -> String {
        self.cookie(self.access_name(), token, "/", SameSite::Lax, max_age)
    }

    /// `Set-Cookie` for a refresh token living `max_age`.
    #[must_use]
    pub fn set_refresh(&self, token: &str, max_age: Duration) -> String {
        self.cookie(
            self.refresh_name(),
            token,
            Endpoint::Refresh.path(),
            SameSite::Strict,
            max_age,
        )
    }

    /// `Set-Cookie`s that remove both cookies (logout, revocation of the acting device).
    #[must_use]
    pub fn clear(&self) -> [String; 2] {
        [
            self.cookie(self.access_name(), "", "/", SameSite::Lax, Duration::ZERO),
            self.cookie(
                self.refresh_name(),
                "",
                Endpoint::Refresh.path(),
                SameSite::Strict,
                Duration::ZERO,
            ),
        ]
    }

    fn cookie(
        &self,
        name: &'static str,
        value: &str,
        path: &'static str,
        same_site: SameSite,
        max_age: Duration,
    ) -> String {
        let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        Cookie::build((name, value.to_owned()))
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .path(path)
            .max_age(cookie::time::Duration::seconds(seconds))
            .build()
            .to_string()
    }

    /// The access token from a request's `Cookie` fields, if exactly one of them names it
    /// once (SPEC §8: a planted second cookie of the name, in the same field or another,
    /// makes none).
    #[must_use]
    pub fn access_token<'a>(&self, cookies: impl Into<CookieFields<'a>>) -> Option<&'a str> {
        find(&cookies.into(), self.access_name())
    }

    /// The refresh token from a request's `Cookie` fields, as for
    /// [`access_token`](Self::access_token).
    #[must_use]
    pub fn refresh_token<'a>(&self, cookies: impl Into<CookieFields<'a>>) -> Option<&'a str> {
        find(&cookies.into(), self.refresh_name())
    }

    /// The CSRF guard: a cookie-authenticated change must come from an allowed origin,
    /// named by `Origin`, or without it vouched for by `Sec-Fetch-Site: same-origin`.
    pub fn check_origin(
        &self,
        origin: Option<&[u8]>,
        sec_fetch_site: Option<&[u8]>,
    ) -> Result<(), Error> {
        let allowed = match origin {
            Some(origin) => std::str::from_utf8(origin).is_ok_and(|origin| {
                let origin = origin.trim().trim_end_matches('/');
                self.allowed_origins
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(origin))
            }),
            None => sec_fetch_site.is_some_and(|site| site.eq_ignore_ascii_case(b"same-origin")),
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::CsrfRejected)
        }
    }
}

/// The cookie called `name` in a `Cookie` header, when there is exactly one; a malformed
/// pair is skipped.
///
/// SPEC §8: a sibling subdomain can plant a cookie of the same name (with `Domain=` the
/// parent's), and the browser then sends both, in an order the server cannot trust. Which
/// one is ours cannot be told, so neither is used: the request has no such credential (and
/// a refresh by cookie clears ours), rather than one that may sign the person into another
/// account.
/// A renewed access cookie (SPEC §8) for an answer to carry: the adapters' extractors
/// leave it for their layer, which writes it unless the answer already sets that cookie.
#[derive(Clone, PartialEq, Eq)]
pub struct RenewalCookie {
    /// The access cookie's name.
    pub name: &'static str,
    /// The whole `Set-Cookie` value.
    pub set_cookie: String,
}

impl std::fmt::Debug for RenewalCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value holds an access token.
        f.debug_struct("RenewalCookie")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RenewalCookie {
    /// Whether one of an answer's `Set-Cookie` values already sets this cookie (a sign-out
    /// clearing it, say): then the renewal must not undo it.
    pub fn is_set_by<'a>(&self, set_cookies: impl IntoIterator<Item = &'a [u8]>) -> bool {
        set_cookies.into_iter().any(|line| {
            line.strip_prefix(self.name.as_bytes())
                .is_some_and(|rest| rest.starts_with(b"="))
        })
    }
}

/// The value of the one cookie called `name` across every field; none when it is missing
/// or comes more than once (whichever came first would be a guess).
fn find<'a>(cookies: &CookieFields<'a>, name: &str) -> Option<&'a str> {
    let mut named = cookies
        .fields()?
        .filter_map(|field| std::str::from_utf8(field).ok())
        .flat_map(|field| Cookie::split_parse(field).filter_map(Result::ok))
        .filter(|cookie| cookie.name() == name);
    let only = named.next()?;
    if named.next().is_some() {
        return None;
    }
    only.value_raw()
}

fn normalise(origins: Vec<String>) -> Vec<String> {
    origins
        .into_iter()
        .map(|origin| origin.trim().trim_end_matches('/').to_owned())
        .filter(|origin| !origin.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CookieSettings {
        CookieSettings::new(vec!["https://app.example.com/".into()])
    }

    #[test]
    fn section_8_a_renewal_never_overrides_an_answer_that_sets_the_same_cookie() {
        let renewal = RenewalCookie {
            name: "td_access",
            set_cookie: "td_access=secret-token-value; Path=/".into(),
        };
        assert!(renewal.is_set_by([b"td_access=; Max-Age=0".as_slice()]));
        assert!(!renewal.is_set_by([b"td_access_other=x".as_slice(), b"td_refresh=; Max-Age=0"]));
        assert!(
            !format!("{renewal:?}").contains("secret-token-value"),
            "no token in Debug"
        );
    }

    #[test]
    fn section_8_cookie_attributes() {
        let secure = settings();
        let access = secure.set_access("jwt", Duration::from_secs(900));
        for part in [
            "__Host-td_access=jwt",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=900",
        ] {
            assert!(access.contains(part), "{access} lacks {part}");
        }
        let refresh = secure.set_refresh("tdr_x", Duration::from_secs(60));
        for part in [
            "__Secure-td_refresh=tdr_x",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/auth/refresh",
        ] {
            assert!(refresh.contains(part), "{refresh} lacks {part}");
        }
        let dev = CookieSettings::development(vec![]);
        let access = dev.set_access("jwt", Duration::from_secs(900));
        assert!(access.starts_with("td_access=jwt"), "{access}");
        assert!(!access.contains("Secure"), "{access}");
        for cleared in secure.clear() {
            assert!(cleared.contains("Max-Age=0"), "{cleared}");
        }
    }

    #[test]
    fn section_8_tokens_are_read_from_the_cookie_header() {
        let secure = settings();
        let header = b"theme=dark; __Host-td_access=abc.def.ghi; __Secure-td_refresh=tdr_1";
        assert_eq!(secure.access_token(&header[..]), Some("abc.def.ghi"));
        assert_eq!(secure.refresh_token(&header[..]), Some("tdr_1"));
        assert_eq!(
            secure.access_token(&b"td_access=x"[..]),
            None,
            "names are exact"
        );
        assert_eq!(secure.access_token(&b"\xff"[..]), None);
        assert_eq!(secure.access_token(None), None);
    }

    /// SPEC §8 over HTTP/2 (RFC 9113 section 8.2.3: each cookie may come in a field of its
    /// own): a cookie of the name planted in another field makes no token, whichever field
    /// comes first; one field of each name is read as one header.
    #[test]
    fn section_8_a_planted_cookie_in_another_field_never_wins() {
        let secure = settings();
        let planted: &[u8] = b"__Host-td_access=mallorys";
        let own: &[u8] = b"theme=dark; __Host-td_access=alices";
        for fields in [[planted, own], [own, planted]] {
            let cookies: CookieFields<'_> = fields.into_iter().collect();
            assert_eq!(secure.access_token(cookies), None, "{cookies:?}");
        }
        let split: CookieFields<'_> = [&b"theme=dark"[..], &b"__Host-td_access=alices"[..]]
            .into_iter()
            .collect();
        assert_eq!(secure.access_token(split), Some("alices"));
        let many: CookieFields<'_> = std::iter::repeat_n(&b"a=b"[..], CookieFields::MAX + 1)
            .chain([own])
            .collect();
        assert_eq!(secure.access_token(many), None, "too many fields: none");
    }

    #[test]
    fn section_8_csrf_guard_checks_the_origin() {
        let secure = settings();
        assert!(
            secure
                .check_origin(Some(b"https://app.example.com"), None)
                .is_ok()
        );
        assert!(
            secure
                .check_origin(Some(b"HTTPS://APP.EXAMPLE.COM"), None)
                .is_ok()
        );
        for bad in [
            &b"https://evil.example"[..],
            b"null",
            b"http://app.example.com",
            b"\xff",
        ] {
            assert!(matches!(
                secure.check_origin(Some(bad), Some(b"same-origin")),
                Err(Error::CsrfRejected)
            ));
        }
        assert!(secure.check_origin(None, Some(b"same-origin")).is_ok());
        assert!(secure.check_origin(None, Some(b"same-site")).is_err());
        assert!(secure.check_origin(None, None).is_err());
    }
}
