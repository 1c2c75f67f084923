//! SPEC §9, "`htu` names this server": the public origins a proof's `htu` may name, and
//! the one reading of a URI into an origin and a path. A `Host` header becomes an origin
//! only when it is `host[:port]`: it is never spliced into a URI.

use std::fmt;

use crate::error::{InputError, ProofError};

/// A scheme and authority clients address this server by (`https://api.example.com`), in
/// its one normal form: scheme and host in lower case, the scheme's default port dropped.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicOrigin(String);

impl fmt::Debug for PublicOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicOrigin({})", self.0)
    }
}

impl fmt::Display for PublicOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PublicOrigin {
    /// Reads an operator's setting: `http` or `https`, `://`, then `host[:port]`, with no
    /// path (a trailing `/` aside), query, fragment or user.
    ///
    /// ```
    /// use trusted_devices_core::dpop::PublicOrigin;
    /// let origin = PublicOrigin::parse("HTTPS://API.example.com:443/").unwrap();
    /// assert_eq!(origin.as_str(), "https://api.example.com");
    /// assert!(PublicOrigin::parse("https://api.example.com/v1").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let malformed = || InputError::Malformed {
            field: "public origin",
        };
        let (scheme, authority) = text.trim().split_once("://").ok_or_else(malformed)?;
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        Self::of(scheme, authority.as_bytes()).ok_or_else(malformed)
    }

    /// The origin `scheme://host` of a request's `Host` header (or HTTP/2 `:authority`),
    /// when it is `host[:port]`; anything else is a malformed proof's request.
    pub fn from_host(scheme: &str, host: &[u8]) -> Result<Self, ProofError> {
        Self::of(scheme, host.trim_ascii()).ok_or(ProofError::Malformed)
    }

    /// An absolute `http(s)` URI as its origin and its path (an empty path is `/`),
    /// without query or fragment: how a proof's `htu` is read.
    ///
    /// ```
    /// use trusted_devices_core::dpop::PublicOrigin;
    /// let (origin, path) = PublicOrigin::split_uri("https://API.example.com/me?x=1").unwrap();
    /// assert_eq!((origin.as_str(), path), ("https://api.example.com", "/me"));
    /// ```
    #[must_use]
    pub fn split_uri(uri: &str) -> Option<(Self, &str)> {
        split_htu(uri)
    }

    /// The origin as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn of(scheme: &str, authority: &[u8]) -> Option<Self> {
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => ":443",
            "http" => ":80",
            _ => return None,
        };
        let authority = std::str::from_utf8(authority).ok()?;
        if !is_host_and_port(authority) {
            return None;
        }
        let authority = authority.to_ascii_lowercase();
        let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
        Some(Self(format!("{scheme}://{authority}")))
    }
}

/// `host[:port]`: a name of letters, digits, `-` and `.`, or a bracketed IPv6 literal, and
/// an optional port of digits up to 65535. Nothing else (no `/`, `?`, `#`, `@`, space).
fn is_host_and_port(authority: &str) -> bool {
    let (host, port) = match authority.rfind(':') {
        Some(colon) if !authority.ends_with(']') => {
            (authority.get(..colon), authority.get(colon + 1..))
        }
        _ => (Some(authority), None),
    };
    let Some(host) = host else { return false };
    let port_ok = port.is_none_or(|port| {
        !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|byte| byte.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|port| port <= 65_535)
    });
    let host_ok = match host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        Some(literal) => literal.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.')
        }
    };
    port_ok && host_ok
}

/// A proof's `htu` as an origin and a path (an empty path is `/`), without query or
/// fragment; `None` unless it is an absolute `http(s)` URI with a `host[:port]`.
pub(crate) fn split_htu(htu: &str) -> Option<(PublicOrigin, &str)> {
    let without_fragment = htu.split('#').next()?;
    let without_query = without_fragment.split('?').next()?;
    let (scheme, rest) = without_query.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    Some((PublicOrigin::of(scheme, authority.as_bytes())?, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_9_a_host_that_is_not_host_and_port_makes_no_origin() {
        for host in [
            "evil.example/other/path?",
            "a.example@b.example",
            "a.example#x",
            "a b",
            "",
            "a.example:99999",
            "a.example:",
            "[not-ipv6]",
        ] {
            assert_eq!(
                PublicOrigin::from_host("https", host.as_bytes()),
                Err(ProofError::Malformed),
                "{host:?}"
            );
        }
        for (host, origin) in [
            ("API.example.com", "https://api.example.com"),
            ("api.example.com:443", "https://api.example.com"),
            ("127.0.0.1:3000", "https://127.0.0.1:3000"),
            ("[::1]:8443", "https://[::1]:8443"),
        ] {
            let parsed = PublicOrigin::from_host("https", host.as_bytes()).unwrap();
            assert_eq!(parsed.as_str(), origin);
        }
    }

    #[test]
    fn section_9_htu_splits_into_origin_and_path() {
        let (origin, path) = split_htu("HTTPS://Api.Example.com:443/me?x=1#f").unwrap();
        assert_eq!((origin.as_str(), path), ("https://api.example.com", "/me"));
        let (_, root) = split_htu("https://api.example.com").unwrap();
        assert_eq!(root, "/");
        assert!(split_htu("https://user@api.example.com/me").is_none());
        assert!(split_htu("ftp://api.example.com/me").is_none());
        assert!(PublicOrigin::parse("https://api.example.com?x").is_err());
    }
}
