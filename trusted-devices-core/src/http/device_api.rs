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

    /// Believes `X-Forwarded-For` / `Forwarded` from these peers [default: none, the
    /// socket peer is the client].
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

    /// The client's address for a request from `peer` (unknown without connection info),
    /// reading forwarding headers through `header` (a lookup by lower-case name).
    pub fn client_ip<'h>(
        &self,
        peer: Option<IpAddr>,
        header: impl Fn(&str) -> Option<&'h str>,
    ) -> Option<IpAddr> {
        let peer = peer?;
        Some(
            self.proxies
                .client_ip(peer, header("x-forwarded-for"), header("forwarded")),
        )
    }
}
