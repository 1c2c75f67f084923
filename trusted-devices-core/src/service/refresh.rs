//! Rule R: rotating refresh tokens, with the reuse grace and theft detection.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::audit::Cause;
use crate::domain::{Device, DeviceId, UserId};
use crate::error::Error;
use crate::events::{Event, RevokeReason};
use crate::service::{Presented, TrustedDevices};
use crate::store::{IdleExtension, RefreshRecord, RotateOutcome, Rotation};
use crate::token::{RefreshToken, TokenPair};

impl TrustedDevices {
    /// Rule R: consumes the presented refresh token and returns a new pair, within rule
    /// K's refresh limits for `client_ip` (per address, and per device once genuine).
    ///
    /// The idle deadline moves, the absolute one does not. A token consumed at most
    /// `refresh_reuse_grace` ago yields the same successor again (racing tabs converge); one
    /// consumed earlier is `refresh_token_reused` and revokes its device.
    ///
    /// A plain `&str` is a bearer refresh token; a cookie's comes as
    /// [`Presented::cookie`], and the new pair travels the same way (a token issued for the
    /// other transport matches no record: `refresh_token_invalid`). A device bound to a key
    /// refreshes only with a proof by that key ([`Presented::with_proof`], SPEC §9): without
    /// one the token is refused before anything is consumed, revoked or reported, so a thief
    /// holding only the refresh token cannot even set off rule R's reuse revocation.
    pub async fn refresh(
        &self,
        refresh_token: impl Into<Presented<'_>>,
        client_ip: Option<IpAddr>,
    ) -> Result<TokenPair, Error> {
        let presented = refresh_token.into();
        let now = self.now();
        let Swapped {
            token: presented,
            device,
            successor,
            outcome,
        } = self.present(&presented, client_ip, now).await?;
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
        presented: &Presented<'_>,
        client_ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Swapped, Error> {
        let transport = presented.transport();
        let token = RefreshToken::parse_for(presented.token, transport)
            .ok_or(Error::RefreshTokenInvalid)?;
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
        self.prove_holder(&device, presented.proof.as_ref(), None, now)
            .await?;
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
        Ok(Swapped {
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
pub(super) struct Swapped {
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
