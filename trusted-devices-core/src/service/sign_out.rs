//! SPEC §8's sign-out by refresh token: a browser whose access cookie has expired still
//! holds its refresh cookie, and signing out must end the device, not leave it alive for
//! the next person at that browser.

use std::net::IpAddr;

use crate::audit::Cause;
use crate::error::Error;
use crate::events::RevokeReason;
use crate::service::refresh::Swapped;
use crate::service::{Presented, TrustedDevices};
use crate::store::RotateOutcome;

impl TrustedDevices {
    /// Revokes the device that `refresh_token` belongs to (a logout by its own hand), with
    /// the refresh token alone: for a browser whose access cookie has expired, or an app
    /// that keeps only its refresh token.
    ///
    /// Possession is proven as a refresh proves it (the store's compare-and-swap), so a
    /// forged token signs nothing out: `refresh_token_invalid`. A live, just-rotated or
    /// expired token ends its device with reason `Logout`. A token consumed past the reuse
    /// grace is rule R's theft: the device is revoked as on a reused refresh and the answer
    /// is `refresh_token_reused`. Rule K's refresh limits apply as to a refresh.
    ///
    /// A device bound to a key is signed out only with a proof by that key (SPEC §9:
    /// [`Presented::with_proof`]), else nothing happens. A cookie's refresh token comes as
    /// [`Presented::cookie`]; a plain `&str` is a bearer one.
    pub async fn sign_out(
        &self,
        refresh_token: impl Into<Presented<'_>>,
        client_ip: Option<IpAddr>,
    ) -> Result<(), Error> {
        let presented = refresh_token.into();
        let now = self.now();
        let Swapped {
            device, outcome, ..
        } = self.present(&presented, client_ip, now).await?;
        match outcome {
            RotateOutcome::NotFound => Err(Error::RefreshTokenInvalid),
            RotateOutcome::Reused { device_id, user_id } => {
                self.revoke_after_reuse(user_id, device_id, client_ip).await
            }
            // The store matched the secret: whoever presented it holds this device's
            // session, and asks to end it.
            _ => {
                let cause = Cause::device(&device, client_ip);
                match self
                    .inner
                    .devices
                    .delete(&device.user_id, device.id)
                    .await?
                {
                    Some(deleted) => {
                        self.finish_revocation(vec![deleted], RevokeReason::Logout, &cause)
                            .await;
                    }
                    None => self.discard_tokens_of(&[device.id]).await,
                }
                Ok(())
            }
        }
    }
}
