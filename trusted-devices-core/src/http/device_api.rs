use std::net::IpAddr;
use std::sync::Arc;

use crate::http::TrustedProxies;
use crate::service::TrustedDevices;

/// What a web adapter needs: the service and whose forwarding headers to believe. Both the
/// axum and the actix adapters take their state as this type, so they resolve clients the
/// same way. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DeviceApi {
    service: TrustedDevices,
    proxies: Arc<TrustedProxies>,
}

impl DeviceApi {
    /// The API over `service`, trusting no proxy.
    #[must_use]
    pub fn new(service: TrustedDevices) -> Self {
        Self {
            service,
            proxies: Arc::new(TrustedProxies::none()),
        }
    }

    /// Believes the forwarding header of these peers [default: none, the socket peer is the
    /// client]; which header is the proxies' choice ([`TrustedProxies::header`]).
    #[must_use]
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = Arc::new(proxies);
        self
    }

    /// The service.
    #[must_use]
    pub fn service(&self) -> &TrustedDevices {
        &self.service
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
        if !self.proxies.trusts(peer) {
            return Some(self.proxies.client_ip(peer, std::iter::empty()));
        }
        let header = self.proxies.forwarded_header().name();
        Some(self.proxies.client_ip(peer, lines(header)))
    }
}
