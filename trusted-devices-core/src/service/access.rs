//! Rules T and V: authenticating a request and verifying a token.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::domain::{Device, DeviceId};
use crate::error::Error;
use crate::service::TrustedDevices;
use crate::token::AccessClaims;

/// A request's acting device, as [`TrustedDevices::authenticate`] found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated {
    /// The acting device, as stored (with this request's sighting when it was written).
    pub device: Device,
    /// When the presented access token expires.
    pub expires_at: DateTime<Utc>,
}

/// What [`TrustedDevices::verify`] says of a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The token's user.
    pub user_id: String,
    /// The token's device.
    pub device_id: DeviceId,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

impl TrustedDevices {
    /// Rule T: verifies the access token, then requires its device to exist, belong to
    /// `sub` and have a live session. Records the sighting at most once per
    /// `touch_interval`, best-effort: a failed write does not refuse the request.
    pub async fn authenticate(
        &self,
        access_token: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let (claims, mut device) = self.check_access(access_token, now).await?;
        let sighting = self.sighting(now, client_ip);
        if sighting.is_due(device.last_seen_at) {
            // Bookkeeping, not security: a failed write must not refuse a valid request.
            let recorded = self.inner.devices.record_seen(device.id, sighting).await;
            if recorded.is_ok() {
                device.last_seen_at = now;
                device.last_ip = client_ip.or(device.last_ip);
            }
        }
        Ok(Authenticated {
            device,
            expires_at: expiry(&claims)?,
        })
    }

    /// Rule V: whether an access token is valid now, its device included; writes nothing.
    pub async fn verify(&self, access_token: &str) -> Result<Verified, Error> {
        let (claims, device) = self.check_access(access_token, self.now()).await?;
        Ok(Verified {
            expires_at: expiry(&claims)?,
            user_id: claims.sub,
            device_id: device.id,
        })
    }

    async fn check_access(
        &self,
        access_token: &str,
        now: DateTime<Utc>,
    ) -> Result<(AccessClaims, Device), Error> {
        let leeway = self.inner.policy.leeway_delta();
        let claims = self.inner.codec.verify(access_token, now, leeway)?;
        let device_id: DeviceId = claims.did.parse().map_err(|_| Error::TokenInvalid)?;
        let user_id = Self::user_id_of(&claims)?;
        let device = self
            .inner
            .devices
            .get(device_id)
            .await?
            .filter(|device| device.user_id == user_id && !device.has_ended(now))
            .ok_or(Error::DeviceRevoked)?;
        Ok((claims, device))
    }
}

fn expiry(claims: &AccessClaims) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp(claims.exp, 0).ok_or(Error::TokenInvalid)
}
