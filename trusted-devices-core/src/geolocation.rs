//! The pluggable geolocator of a login's address, and the timer that bounds it.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{DeviceInfo, Location};
use crate::error::BoxError;

/// The geolocation headers of CDNs that [`DeviceApi::login_info`] copies into
/// [`DeviceInfo::proxy_geo_headers`] when the request came through a trusted proxy:
/// Cloudflare (`CF-IPCountry`, and the visitor-location headers), Amazon CloudFront and
/// Vercel. A geolocator reading them is `trusted-devices-geoip`'s `CdnHeaders`.
///
/// [`DeviceApi::login_info`]: crate::http::DeviceApi::login_info
pub const PROXY_GEO_HEADERS: [&str; 16] = [
    "cf-ipcountry",
    "cf-region",
    "cf-ipcity",
    "cf-iplatitude",
    "cf-iplongitude",
    "cloudfront-viewer-country",
    "cloudfront-viewer-country-region-name",
    "cloudfront-viewer-city",
    "cloudfront-viewer-latitude",
    "cloudfront-viewer-longitude",
    "cloudfront-viewer-asn",
    "x-vercel-ip-country",
    "x-vercel-ip-country-region",
    "x-vercel-ip-city",
    "x-vercel-ip-latitude",
    "x-vercel-ip-longitude",
];

/// Finds where a login comes from (rule G): by its address ([`DeviceInfo::ip`]) or by
/// what a trusted proxy said ([`DeviceInfo::proxy_geo_headers`]). An error or `None` leaves
/// the device without a location; it never fails the login.
///
/// A lookup slower than the service's geolocation timeout is abandoned; see
/// [`TrustedDevicesBuilder::geolocation_timeout`](crate::TrustedDevicesBuilder::geolocation_timeout).
#[async_trait]
pub trait Geolocator: Send + Sync {
    /// The location of this login, if known.
    async fn locate(&self, login: &DeviceInfo) -> Result<Option<Location>, BoxError>;
}

/// A shared geolocator (kept by the application too, to reload its database).
#[async_trait]
impl<G: Geolocator + ?Sized> Geolocator for std::sync::Arc<G> {
    async fn locate(&self, login: &DeviceInfo) -> Result<Option<Location>, BoxError> {
        (**self).locate(login).await
    }
}

/// Geolocators tried in order (rule G): the first that knows a location answers; one that
/// fails is passed over. For instance a CDN's headers first, then an offline database.
#[derive(Clone, Default)]
pub struct Geolocators {
    chain: Vec<std::sync::Arc<dyn Geolocator>>,
}

impl std::fmt::Debug for Geolocators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Geolocators")
            .field("len", &self.chain.len())
            .finish()
    }
}

impl Geolocators {
    /// No geolocator yet (default: none, every location empty).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Tries `geolocator` after those already added.
    #[must_use]
    pub fn then(mut self, geolocator: impl Geolocator + 'static) -> Self {
        self.chain.push(std::sync::Arc::new(geolocator));
        self
    }

    /// How many geolocators are chained.
    #[must_use]
    pub fn len(&self) -> usize {
        self.chain.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.chain.is_empty()
    }
}

#[async_trait]
impl Geolocator for Geolocators {
    async fn locate(&self, login: &DeviceInfo) -> Result<Option<Location>, BoxError> {
        for geolocator in &self.chain {
            if let Ok(Some(location)) = geolocator.locate(login).await {
                return Ok(Some(location));
            }
        }
        Ok(None)
    }
}

/// A future that completes after a delay: the core has no runtime, so the application
/// injects its own (`tokio::time::sleep`, for instance).
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Makes [`Sleep`]s: the injected timer that bounds geolocation lookups.
pub trait Timer: Send + Sync {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// Any `Fn(Duration) -> Sleep` is a timer:
/// `|d| Box::pin(tokio::time::sleep(d)) as Sleep`.
impl<F> Timer for F
where
    F: Fn(Duration) -> Sleep + Send + Sync,
{
    fn sleep(&self, duration: Duration) -> Sleep {
        self(duration)
    }
}

/// `lookup`'s answer, or `None` if `deadline` completes first; a failed lookup is `None` too.
pub(crate) async fn locate_within(
    lookup: impl Future<Output = Result<Option<Location>, BoxError>>,
    deadline: Option<Sleep>,
) -> Option<Location> {
    let Some(mut deadline) = deadline else {
        return lookup.await.ok().flatten();
    };
    let mut lookup = pin!(lookup);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(answer) = lookup.as_mut().poll(cx) {
            return Poll::Ready(answer.ok().flatten());
        }
        deadline.as_mut().poll(cx).map(|()| None)
    })
    .await
}
