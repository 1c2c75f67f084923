//! The client's address: the socket peer, unless that peer is a trusted proxy, in which
//! case the forwarding headers are read from the nearest hop outwards.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// Networks whose forwarding headers are believed. Empty by default: the socket peer is the
/// client, and `X-Forwarded-For` / `Forwarded` are ignored, since any client can send them.
///
/// ```
/// use trusted_devices_core::http::TrustedProxies;
/// let proxies: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
/// let peer = "10.1.2.3".parse().unwrap();
/// let client = proxies.client_ip(peer, Some("198.51.100.7, 10.0.0.9"), None);
/// assert_eq!(client, "198.51.100.7".parse::<std::net::IpAddr>().unwrap());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

/// A proxy list entry that is neither an address nor a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR network: {0:?}")]
pub struct BadProxy(pub String);

/// The most forwarding hops read; a longer chain is cut (bounds the work per request).
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// No trusted proxy: the socket peer is always the client.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts these networks.
    #[must_use]
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self { networks }
    }

    /// Whether `ip` is a trusted proxy.
    #[must_use]
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` carrying these headers.
    ///
    /// From a trusted peer, the hops of `Forwarded` (RFC 7239), else of `X-Forwarded-For`,
    /// are read right to left; the first one not itself a trusted proxy is the client. A
    /// malformed or obfuscated hop stops the walk at the last address known good.
    #[must_use]
    pub fn client_ip(
        &self,
        peer: IpAddr,
        x_forwarded_for: Option<&str>,
        forwarded: Option<&str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = match (forwarded, x_forwarded_for) {
            (Some(forwarded), _) => forwarded.split(',').filter_map(forwarded_for).collect(),
            (None, Some(list)) => list.split(',').collect(),
            (None, None) => return peer,
        };
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            let Some(ip) = parse_hop(hop) else { break };
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

    #[test]
    fn without_trusted_proxies_the_socket_peer_is_the_client() {
        let none = TrustedProxies::none();
        let spoofed = none.client_ip(ip("203.0.113.9"), Some("1.1.1.1"), Some("for=2.2.2.2"));
        assert_eq!(spoofed, ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), Some("1.1.1.1"), None),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn x_forwarded_for_is_read_right_to_left_past_trusted_hops() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.168.1.1".parse().unwrap();
        let chain = Some("6.6.6.6, 198.51.100.7, 192.168.1.1, 10.0.0.2");
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), chain, None),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), None, None),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), Some("10.0.0.3"), None),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_handles_ports_and_ipv6() {
        let proxies: TrustedProxies = "127.0.0.1, ::1".parse().unwrap();
        let forwarded = Some(r#"for="[2001:db8::7]:4711";proto=https, for=127.0.0.1"#);
        let client = proxies.client_ip(ip("::1"), Some("9.9.9.9"), forwarded);
        assert_eq!(client, ip("2001:db8::7"));
        let with_port = Some("for=198.51.100.7:1234");
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), None, with_port),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn malformed_or_obfuscated_hops_stop_at_the_last_good_address() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let garbage = Some("not-an-ip, 10.0.0.5");
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), garbage, None),
            ip("10.0.0.5")
        );
        let hidden = Some("for=_hidden, for=10.0.0.6");
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), None, hidden),
            ip("10.0.0.6")
        );
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let proxies: TrustedProxies = "127.0.0.0/8".parse().unwrap();
        let client = proxies.client_ip(ip("::ffff:127.0.0.1"), Some("198.51.100.7"), None);
        assert_eq!(client, ip("198.51.100.7"));
    }

    #[test]
    fn bad_entries_are_refused() {
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("example.com".parse::<TrustedProxies>().is_err());
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::none()));
    }
}
