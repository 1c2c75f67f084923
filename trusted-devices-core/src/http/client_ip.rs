//! The client's address: the socket peer, unless that peer is a trusted proxy, in which
//! case the forwarding headers are read from the nearest hop outwards.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// Which forwarding header the trusted proxies set, and so the only one read. Reading one
/// header only matters: a proxy that appends to `X-Forwarded-For` passes a client's own
/// `Forwarded` header through untouched, and that must not override the proxy's word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` [the default].
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl ForwardedHeader {
    /// The header's name in lower case, for adapters to read every line of it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }

    /// The address text of one comma-separated element; `None` for a `Forwarded` element
    /// without `for=` (it names no hop).
    fn hop(self, element: &str) -> Option<&str> {
        match self {
            Self::XForwardedFor => Some(element),
            Self::Forwarded => forwarded_for(element),
        }
    }
}

impl FromStr for ForwardedHeader {
    type Err = BadProxy;

    /// `x-forwarded-for` or `forwarded`, in any case.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let name = name.trim();
        [Self::XForwardedFor, Self::Forwarded]
            .into_iter()
            .find(|header| header.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| BadProxy(name.to_owned()))
    }
}

/// Networks whose forwarding header is believed, and which header that is. No network by
/// default: the socket peer is the client, and forwarding headers are ignored, since any
/// client can send them.
///
/// ```
/// use trusted_devices_core::http::TrustedProxies;
/// let proxies: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
/// let peer = "10.1.2.3".parse().unwrap();
/// // Every line of a repeated header, in order: here two lines of X-Forwarded-For.
/// let lines = [&b"198.51.100.7"[..], b"10.0.0.9"];
/// let client = proxies.client_ip(peer, lines);
/// assert_eq!(client, "198.51.100.7".parse::<std::net::IpAddr>().unwrap());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

/// A proxy list entry that is neither an address nor a CIDR network, or an unknown
/// forwarding header name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address, CIDR network or forwarding header: {0:?}")]
pub struct BadProxy(pub String);

/// The most forwarding hops read; a longer chain is cut (bounds the work per request).
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// No trusted proxy: the socket peer is always the client.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts these networks, reading `X-Forwarded-For`.
    #[must_use]
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self {
            networks,
            header: ForwardedHeader::default(),
        }
    }

    /// Reads this header from trusted proxies [default: `X-Forwarded-For`]; the other one
    /// is ignored.
    #[must_use]
    pub fn header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// The header read from trusted proxies.
    #[must_use]
    pub fn forwarded_header(&self) -> ForwardedHeader {
        self.header
    }

    /// Whether `ip` is a trusted proxy.
    #[must_use]
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer`, given every line of the
    /// [forwarding header](Self::forwarded_header) in the order received (a repeated header
    /// is one list, RFC 9110 §5.3).
    ///
    /// From a trusted peer the hops are read right to left; the first one not itself a
    /// trusted proxy is the client. A malformed or obfuscated hop, or a line that is not
    /// UTF-8, stops the walk at the last address known good. From any other peer the
    /// lines are not read at all.
    #[must_use]
    pub fn client_ip<'a>(&self, peer: IpAddr, lines: impl IntoIterator<Item = &'a [u8]>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops: Vec<Option<&str>> = Vec::new();
        for line in lines {
            match std::str::from_utf8(line) {
                Ok(text) => hops.extend(
                    text.split(',')
                        .filter_map(|element| self.header.hop(element))
                        .map(Some),
                ),
                Err(_) => hops.push(None),
            }
        }
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            let Some(ip) = hop.and_then(parse_hop) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = BadProxy;

    /// Comma-separated addresses and CIDR networks: `10.0.0.0/8, ::1`.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| BadProxy(entry.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }
}

/// IPv4 peers often arrive as IPv4-mapped IPv6 (`::ffff:a.b.c.d`) on dual-stack sockets.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The `for=` value of one `Forwarded` element.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then_some(value.trim())
    })
}

/// An address from a hop: `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:443"`, `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn lines<'a>(values: &[&'a str]) -> Vec<&'a [u8]> {
        values.iter().map(|value| value.as_bytes()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_socket_peer_is_the_client() {
        let none = TrustedProxies::none();
        let spoofed = none.client_ip(ip("203.0.113.9"), lines(&["1.1.1.1"]));
        assert_eq!(spoofed, ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), lines(&["1.1.1.1"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn x_forwarded_for_is_read_right_to_left_past_trusted_hops() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.168.1.1".parse().unwrap();
        let chain = lines(&["6.6.6.6, 198.51.100.7, 192.168.1.1, 10.0.0.2"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), chain), ip("198.51.100.7"));
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), lines(&[])),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), lines(&["10.0.0.3"])),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn forwarded_headers_every_line_of_a_repeated_header_is_read_in_order() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy added its own line.
        let repeated = lines(&["6.6.6.6", "198.51.100.7, 10.0.0.2"]);
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), repeated),
            ip("198.51.100.7"),
            "the last line's hops are the nearest"
        );
        let spoofed_first = lines(&["10.0.0.7", "198.51.100.7"]);
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), spoofed_first),
            ip("198.51.100.7"),
            "an earlier line cannot stand in for a later one"
        );
        let bad_line: Vec<&[u8]> = vec![b"1.1.1.1", b"\xff", b"10.0.0.4"];
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), bad_line),
            ip("10.0.0.4"),
            "a line that is not UTF-8 stops the walk"
        );
    }

    #[test]
    fn forwarded_headers_the_operator_chooses_the_one_header_read() {
        let xff: TrustedProxies = "127.0.0.1, ::1".parse().unwrap();
        assert_eq!(xff.forwarded_header(), ForwardedHeader::XForwardedFor);
        let rfc = xff.clone().header(ForwardedHeader::Forwarded);
        let forwarded = lines(&[r#"for="[2001:db8::7]:4711";proto=https, for=127.0.0.1"#]);
        assert_eq!(rfc.client_ip(ip("::1"), forwarded), ip("2001:db8::7"));
        let with_port = lines(&["for=198.51.100.7:1234", "proto=https"]);
        assert_eq!(
            rfc.client_ip(ip("127.0.0.1"), with_port),
            ip("198.51.100.7"),
            "elements without for= name no hop"
        );
        assert_eq!("Forwarded".parse(), Ok(ForwardedHeader::Forwarded));
        assert_eq!(
            " x-forwarded-for ".parse(),
            Ok(ForwardedHeader::XForwardedFor)
        );
        assert!("x-real-ip".parse::<ForwardedHeader>().is_err());
    }

    #[test]
    fn malformed_or_obfuscated_hops_stop_at_the_last_good_address() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), lines(&["not-an-ip, 10.0.0.5"])),
            ip("10.0.0.5")
        );
        let rfc = proxies.header(ForwardedHeader::Forwarded);
        assert_eq!(
            rfc.client_ip(ip("10.0.0.1"), lines(&["for=_hidden, for=10.0.0.6"])),
            ip("10.0.0.6")
        );
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let proxies: TrustedProxies = "127.0.0.0/8".parse().unwrap();
        let client = proxies.client_ip(ip("::ffff:127.0.0.1"), lines(&["198.51.100.7"]));
        assert_eq!(client, ip("198.51.100.7"));
    }

    #[test]
    fn bad_entries_are_refused() {
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("example.com".parse::<TrustedProxies>().is_err());
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::none()));
    }
}
