//! Rules T and V: authenticating a request and verifying a token.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audit::Cause;
use crate::domain::Device;
use crate::dpop::{DpopRequest, ProofError};
use crate::error::Error;
use crate::service::{Presented, TrustedDevices, Via};
use crate::store::IdleExtension;
use crate::token::{ClaimsScratch, TokenTimes, Transport};

/// A request's acting device, as [`TrustedDevices::authenticate`] found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated {
    /// The acting device, as stored (with this request's sighting when it was written);
    /// shared with the repository that holds it in memory, if one does.
    pub device: Arc<Device>,
    /// When the presented access token expires.
    pub expires_at: DateTime<Utc>,
    /// For a cookie past half its life: the fresh access token to set (SPEC §8).
    pub renewal: Option<Renewal>,
    /// The address the request came from, when known: what the history (rule H) records
    /// for what this device does in the request.
    pub client_ip: Option<IpAddr>,
    /// With `dpop_nonce` on, a fresh server nonce for the answer's `DPoP-Nonce` header
    /// when the proof's own is past half its life (RFC 9449 section 8.2).
    pub dpop_nonce: Option<String>,
}

impl Authenticated {
    /// This device acting from this request's address.
    pub(crate) fn cause(&self) -> Cause {
        Cause::device(&self.device, self.client_ip)
    }
}

/// A fresh cookie access token for an active browser session, issued by
/// [`TrustedDevices::authenticate`] for a cookie; its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Renewal {
    /// The new access token (cookie transport).
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for Renewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renewal")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What [`TrustedDevices::verify`] says of a valid token.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The token's device, as stored (or cached): its `user_id` is the token's `sub`.
    /// Shared rather than copied, like [`Authenticated::device`].
    pub device: Arc<Device>,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

impl TrustedDevices {
    /// Rule T: verifies the presented access token, then requires its device to exist,
    /// belong to `sub` and have a live session. Records the sighting at most once per
    /// `touch_interval`, best-effort: a failed write does not refuse the request.
    ///
    /// How it came decides the rest ([`Presented`]; a plain `&str` is a bearer token):
    /// - bearer: a token issued for cookies is `token_invalid`, and a key-bound device's
    ///   token is `dpop_invalid` (SPEC §9: a copied token is useless);
    /// - cookie (SPEC §8): a token issued for bearer use is `token_invalid`; once the token
    ///   has passed half its life, a fresh one comes back as [`Authenticated::renewal`] and
    ///   the device's idle deadline moves as on a refresh (the absolute one never does);
    /// - DPoP (SPEC §9): the token's device must be bound to a key, and the proof must be by
    ///   that key, for this request and this token (`ath`); anything else is `dpop_invalid`.
    pub async fn authenticate(
        &self,
        presented: impl Into<Presented<'_>>,
        client_ip: Option<IpAddr>,
    ) -> Result<Authenticated, Error> {
        let presented = presented.into();
        match presented.via {
            Via::Cookie => self.authenticate_cookie(presented.token, client_ip).await,
            Via::Dpop => {
                self.authenticate_dpop(presented.token, presented.proof, client_ip)
                    .await
            }
            Via::Bearer => self.authenticate_bearer(presented.token, client_ip).await,
        }
    }

    async fn authenticate_bearer(
        &self,
        access_token: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let (times, device) = self
            .check_access(access_token, Some(Transport::Bearer), now)
            .await?;
        self.refuse_if_bound(&device, client_ip).await?;
        self.seen(times, device, client_ip, now).await
    }

    async fn authenticate_dpop(
        &self,
        access_token: &str,
        proof: Option<DpopRequest<'_>>,
        client_ip: Option<IpAddr>,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let (times, device) = self
            .check_access(access_token, Some(Transport::Bearer), now)
            .await?;
        if device.dpop_jkt.is_none() {
            // RFC 9449 section 7.1: the DPoP scheme names a key-bound token.
            return Err(Error::DpopInvalid(ProofError::NotBound));
        }
        let proven = self
            .prove_holder(&device, proof.as_ref(), Some(access_token), now)
            .await;
        match proven {
            Ok(proven) => {
                let mut acting = self.seen(times, device, client_ip, now).await?;
                acting.dpop_nonce = proven.next_nonce;
                Ok(acting)
            }
            Err(error) => Err(self.report_refusal(&device, error, client_ip).await),
        }
    }

    async fn authenticate_cookie(
        &self,
        access_token: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Authenticated, Error> {
        let now = self.now();
        let (times, device) = self
            .check_access(access_token, Some(Transport::Cookie), now)
            .await?;
        self.refuse_if_bound(&device, client_ip).await?;
        let half_life = (times.expires_at.timestamp() - times.issued_at) / 2;
        if now.timestamp() < times.issued_at + half_life {
            return self.seen(times, device, client_ip, now).await;
        }
        let idle_expires_at = now + self.inner.policy.refresh_idle_timeout;
        let sighting = self.sighting(now, client_ip);
        let device = self
            .inner
            .devices
            .extend_idle(
                device.id,
                sighting,
                IdleExtension::of(&device, idle_expires_at),
            )
            .await?
            .map(Arc::new)
            .ok_or(Error::DeviceRevoked)?;
        let (access_token, expires_at) = self.sign_access(&device, Transport::Cookie, now);
        Ok(Authenticated {
            renewal: Some(Renewal {
                access_token,
                expires_in: super::whole_seconds_between(now, expires_at),
            }),
            device,
            expires_at,
            client_ip,
            dpop_nonce: None,
        })
    }

    /// Records a sighting when one is due, best-effort.
    async fn seen(
        &self,
        times: TokenTimes,
        mut device: Arc<Device>,
        client_ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Authenticated, Error> {
        let sighting = self.sighting(now, client_ip);
        if sighting.is_due(device.last_seen_at) {
            // Bookkeeping, not security: a failed write must not refuse a valid request.
            let recorded = self.inner.devices.record_seen(device.id, sighting).await;
            if recorded.is_ok() {
                let seen = Arc::make_mut(&mut device);
                seen.last_seen_at = now;
                seen.last_ip = client_ip.or(seen.last_ip);
            }
        }
        Ok(Authenticated {
            device,
            expires_at: times.expires_at,
            renewal: None,
            client_ip,
            dpop_nonce: None,
        })
    }

    /// Rule V: whether an access token is valid now, its device included; writes nothing
    /// but rule K's count of verifications from `client_ip` (`None`: no client's request,
    /// not limited). Tokens of either transport are answered: the question grants nothing.
    pub async fn verify(
        &self,
        access_token: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Verified, Error> {
        self.limit_verify(client_ip).await?;
        let (times, device) = self.check_access(access_token, None, self.now()).await?;
        Ok(Verified {
            expires_at: times.expires_at,
            device,
        })
    }

    /// A key-bound device's token, presented without its proof (SPEC §9: a `Bearer` or
    /// cookie use of it is refused, so a copied token is useless), reported.
    async fn refuse_if_bound(
        &self,
        device: &Device,
        client_ip: Option<IpAddr>,
    ) -> Result<(), Error> {
        if device.dpop_jkt.is_none() {
            return Ok(());
        }
        let error = Error::DpopInvalid(ProofError::BoundTokenAsBearer);
        Err(self.report_refusal(device, error, client_ip).await)
    }

    /// The token's times and its device, once the token is good and the device is
    /// live and the token's user's.
    async fn check_access(
        &self,
        access_token: &str,
        transport: Option<Transport>,
        now: DateTime<Utc>,
    ) -> Result<(TokenTimes, Arc<Device>), Error> {
        let leeway = self.inner.policy.leeway;
        // The claims stay borrowed from here while the device is read: `sub` is compared
        // without a copy.
        let mut scratch = ClaimsScratch::new();
        let claims = self
            .inner
            .codec
            .check(access_token, now, leeway, &mut scratch)?;
        if transport.is_some_and(|expected| expected != claims.transport) {
            return Err(Error::TokenInvalid);
        }
        // Compared as text: `sub` was signed by this service, and a user id that is not
        // valid matches no device anyway.
        let device = self
            .inner
            .devices
            .get_shared(claims.device_id)
            .await?
            .filter(|device| device.user_id.as_str() == claims.sub && !device.has_ended(now))
            .ok_or(Error::DeviceRevoked)?;
        Ok((claims.times, device))
    }
}
