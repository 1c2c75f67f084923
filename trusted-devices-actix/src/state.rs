use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::web::Data;
use trusted_devices_core::TrustedDevices;
use trusted_devices_core::http::TrustedProxies;

/// The adapter's state: the service and whose forwarding headers to believe. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Devices {
    service: TrustedDevices,
    proxies: Arc<TrustedProxies>,
}

impl Devices {
    /// The adapter over `service`, trusting no proxy.
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

    /// The client's address: the socket peer, or the forwarded client when that peer is a
    /// trusted proxy.
    #[must_use]
    pub fn client_ip(&self, request: &HttpRequest) -> Option<IpAddr> {
        let peer = request.peer_addr()?.ip();
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        Some(
            self.proxies
                .client_ip(peer, header("x-forwarded-for"), header("forwarded")),
        )
    }

    /// The `Devices` an app registered (by [`configure`](Self::configure)).
    pub(crate) fn of(request: &HttpRequest) -> Option<Self> {
        request
            .app_data::<Data<Self>>()
            .map(|data| Self::clone(data))
    }
}
