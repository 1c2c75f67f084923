//! The pluggable geolocator of a login's address.

use std::net::IpAddr;

use async_trait::async_trait;

use crate::domain::Location;
use crate::error::BoxError;

/// Looks up where an address is. An error or `None` leaves the device without a location;
/// it never fails the login.
///
/// The core has no timer: wrap a slow lookup in your runtime's timeout (the web adapters
/// do) so that it cannot hold a login up.
#[async_trait]
pub trait Geolocator: Send + Sync {
    /// The location of `ip`, if known.
    async fn locate(&self, ip: IpAddr) -> Result<Option<Location>, BoxError>;
}
