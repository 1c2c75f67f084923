//! The pluggable geolocator of a login's address, and the timer that bounds it.

use std::future::Future;
use std::net::IpAddr;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::Location;
use crate::error::BoxError;

/// Looks up where an address is. An error or `None` leaves the device without a location;
/// it never fails the login.
///
/// A lookup slower than the service's geolocation timeout is abandoned; see
/// [`TrustedDevicesBuilder::geolocation_timeout`](crate::TrustedDevicesBuilder::geolocation_timeout).
#[async_trait]
pub trait Geolocator: Send + Sync {
    /// The location of `ip`, if known.
    async fn locate(&self, ip: IpAddr) -> Result<Option<Location>, BoxError>;
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
