//! Rule R: rotating refresh tokens, with the reuse grace and theft detection.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::audit::Cause;
use crate::domain::{Device, DeviceId, UserId};
use crate::dpop::DpopRequest;
use crate::error::Error;
use crate::events::{Event, RevokeReason};
use crate::service::TrustedDevices;
use crate::store::{IdleExtension, RefreshRecord, RotateOutcome, Rotation};
use crate::token::{RefreshToken, TokenPair, Transport};

impl TrustedDevices {
    /// Rule R: consumes `refresh_token` and returns a new pair, within rule K's refresh
    /// limits for `client_ip` (per address, and per device once genuine).
    ///
    /// The idle deadline moves, the absolute one does not. A token consumed at most
    /// `refresh_reuse_grace` ago yields the same successor again (racing tabs converge); one
    /// consumed earlier is `refresh_token_reused` and revokes its device.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<TokenPair, Error> {
        self.refresh_for(refresh_token, Transport::Bearer, client_ip)
            .await
    }

    /// Rule R for a refresh token presented on `transport` (a cookie token from the refresh
    /// cookie, SPEC §8); the new pair travels the same way. A token issued for the other
    /// transport matches no record: `refresh_token_invalid`.
    pub async fn refresh_for(
        &self,
        refresh_token: &str,
        transport: Transport,
        client_ip: Option<IpAddr>,
    ) -> Result<TokenPair, Error> {
        self.refresh_with_proof(refresh_token, transport, client_ip, None)
            .await
    }

    /// Rule R with the request's DPoP proof, if it carries one (SPEC §9): a device bound
    /// to a key refreshes only with a proof by that key. Without one, the token is refused
    /// before anything is consumed, revoked or reported, so a thief holding only the
    /// refresh token cannot even set off rule R's reuse revocation.
    pub async fn refresh_with_proof(
        &self,
        refresh_token: &str,
        transport: Transport,
        client_ip: Option<IpAddr>,
        proof: Option<DpopRequest<'_>>,
    ) -> Result<TokenPair, Error> {
        let now = self.now();
        let Presented {
            token: presented,
            device,
            successor,
            outcome,
        } = self
            .present(refresh_token, transport, client_ip, proof.as_ref(), now)
            .await?;
        let idle_expires_at = now + self.inner.policy.refresh_idle_timeout;
        match outcome {
            RotateOutcome::NotFound => Err(Error::RefreshTokenInvalid),
            RotateOutcome::Reused { device_id, user_id } => {
                self.revoke_after_reuse(user_id, device_id, client_ip).await
            }
            RotateOutcome::Expired => Err(Error::RefreshTokenExpired),
            // The secret matched a stored record, so the session's end may be told.
            _ if device.has_ended(now) => Err(Error::RefreshTokenExpired),
            RotateOutcome::Rotated => {
                let sighting = self.sighting(now, client_ip);
                let extended = self
                    .inner
                    .devices
                    .extend_idle(
                        device.id,
                        sighting,
                        IdleExtension::of(&device, idle_expires_at),
                    )
                    .await?;
                // The device was revoked between the read and the rotation.
                let Some(device) = extended else {
                    self.discard_tokens_of(&[device.id]).await;
                    return Err(Error::RefreshTokenInvalid);
                };
                crate::telemetry::count_refresh();
                self.count_refresh(device.id, client_ip).await;
                Ok(self.issue_pair(&device, successor, now))
            }
            RotateOutcome::Replayed { sealed_successor } => {
                crate::telemetry::count_refresh();
                self.count_refresh(device.id, client_ip).await;
                Ok(self.issue_pair(&device, presented.unseal(&sealed_successor), now))
            }
        }
    }

    /// Rule R's compare-and-swap for a presented refresh token: parses it, reads its
    /// device and asks the store to rotate it. The store is asked before the device's
    /// state is told: a forged token (a real device id with a random secret) learns nothing
    /// but `refresh_token_invalid`.
    ///
    /// Rule K first: the token is parsed once, and its address's and device's buckets are
    /// looked at before any storage is read.
    pub(super) async fn present(
        &self,
        refresh_token: &str,
        transport: Transport,
        client_ip: Option<IpAddr>,
        proof: Option<&DpopRequest<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Presented, Error> {
        let token =
            RefreshToken::parse_for(refresh_token, transport).ok_or(Error::RefreshTokenInvalid)?;
        self.limit_refresh(client_ip, token.device_id()).await?;
        let device = self
            .inner
            .devices
            .get(token.device_id())
            .await?
            .ok_or(Error::RefreshTokenInvalid)?;
        // Before the store is asked: without the device's key nothing is consumed. Nor is
        // anything reported: the token is not known to be genuine yet, and a thief holding
        // only a refresh token must not be able to fill the device's history.
        self.prove_holder(&device, proof, None, now).await?;
        let successor =
            RefreshToken::generate_for(device.id, transport, self.inner.random.as_ref());
        let idle_expires_at = now + self.inner.policy.refresh_idle_timeout;
        let rotation = Rotation {
            presented: token.hash(),
            device_id: device.id,
            successor: successor_record(&device, &successor, idle_expires_at, now),
            sealed_successor: token.seal(&successor),
            now,
            grace: self.inner.policy.refresh_reuse_grace,
        };
        let outcome = self.inner.tokens.rotate(rotation).await?;
        Ok(Presented {
            token,
            device,
            successor,
            outcome,
        })
    }

    /// Theft is assumed: the device and every token of it go, and the answer is
    /// `refresh_token_reused`.
    pub(super) async fn revoke_after_reuse<T>(
        &self,
        user_id: UserId,
        device_id: DeviceId,
        client_ip: Option<IpAddr>,
    ) -> Result<T, Error> {
        // Whoever presented the consumed token: the address is all that is known of them.
        let cause = Cause {
            client_ip,
            ..Cause::default()
        };
        let detected = Event::RefreshReuseDetected {
            user_id: user_id.clone(),
            device_id,
        };
        self.emit(detected, &cause).await;
        match self.inner.devices.delete(&user_id, device_id).await? {
            Some(device) => {
                self.finish_revocation(vec![device], RevokeReason::RefreshReuse, &cause)
                    .await;
            }
            None => self.discard_tokens_of(&[device_id]).await,
        }
        Err(Error::RefreshTokenReused)
    }
}

/// A presented refresh token after the store's compare-and-swap.
pub(super) struct Presented {
    /// The token as presented.
    pub(super) token: RefreshToken,
    /// The device it names, as read before the swap.
    pub(super) device: Device,
    /// The successor the swap stored, when it rotated.
    pub(super) successor: RefreshToken,
    /// What the store answered.
    pub(super) outcome: RotateOutcome,
}

fn successor_record(
    device: &Device,
    successor: &RefreshToken,
    idle_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> RefreshRecord {
    RefreshRecord {
        hash: successor.hash(),
        device_id: device.id,
        user_id: device.user_id.clone(),
        issued_at: now,
        expires_at: device.within_session(idle_expires_at),
        rotated: None,
    }
}
