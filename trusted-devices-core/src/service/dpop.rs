//! SPEC §9 in the service: which key a login binds its device to, and proving that a
//! request of a bound device comes from the key's holder. Every refusal is
//! `dpop_invalid`, changes nothing, and is a `tracing` security event.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::Cause;
use crate::domain::Device;
use crate::dpop::{DpopRequest, ProofError, Thumbprint, check_proof, nonce};
use crate::error::Error;
use crate::events::Event;
use crate::policy::DpopMode;
use crate::service::TrustedDevices;

/// The most devices whose refusals are remembered (a refusal of a device beyond it may be
/// filed again sooner: the bound is on memory, never on correctness).
pub(super) const REFUSALS_CAPACITY: usize = 10_000;

impl TrustedDevices {
    /// Rule E/H for a refusal `error` of a request whose genuine access token belongs to
    /// the key-bound `device`: a security event and a history entry, at most once per
    /// device per `dpop_proof_age`. Not for a server nonce's round trip (the protocol, not
    /// an attack).
    pub(super) async fn report_refusal(
        &self,
        device: &Device,
        error: Error,
        client_ip: Option<IpAddr>,
    ) -> Error {
        let reason = match &error {
            Error::DpopInvalid(ProofError::UseNonce { .. }) => return error,
            Error::DpopInvalid(reason) => reason.reason(),
            _ => return error,
        };
        let window = self.inner.policy.dpop_proof_age;
        if self
            .inner
            .proof_refusals
            .first_in_window(&device.id, self.now(), window)
        {
            let event = Event::ProofRefused {
                device: device.clone(),
                reason,
            };
            self.emit(event, &Cause::device(device, client_ip)).await;
        }
        error
    }

    /// A fresh server nonce for a `DPoP-Nonce` header, when `dpop_nonce` is on (RFC 9449
    /// section 8); any server sharing the signing keys accepts it.
    #[must_use]
    pub fn dpop_nonce(&self) -> Option<String> {
        let policy = &self.inner.policy;
        (policy.dpop() != DpopMode::Off && policy.dpop_nonce())
            .then(|| nonce::issue(self.inner.codec.keys(), self.now()))
    }

    /// The key a login binds its new device to: the proof's, once it passes every check;
    /// none without a proof (refused under `dpop = required`) or with `dpop = off`.
    pub(super) async fn login_key(
        &self,
        proof: Option<&DpopRequest<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Option<Thumbprint>, Error> {
        match (self.inner.policy.dpop(), proof) {
            (DpopMode::Off, _) => Ok(None),
            (DpopMode::Required, None) => Err(refused(ProofError::Missing)),
            (DpopMode::Allowed, None) => Ok(None),
            (_, Some(proof)) => self.proven_key(proof, None, now).await.map(Some),
        }
    }

    /// For a device bound to a key: the request's proof must be by that key (and name
    /// `access_token` when one is presented). An unbound device needs nothing here.
    pub(super) async fn prove_holder(
        &self,
        device: &Device,
        proof: Option<&DpopRequest<'_>>,
        access_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let Some(bound) = &device.dpop_jkt else {
            return Ok(());
        };
        let proof = proof.ok_or(Error::DpopInvalid(ProofError::Missing))?;
        let key = self.proven_key(proof, access_token, now).await?;
        if &key == bound {
            Ok(())
        } else {
            Err(Error::DpopInvalid(ProofError::WrongKey))
        }
    }

    /// Every check of RFC 9449 section 4.3: the proof itself, then the server nonce, then
    /// its `jti` used once for the window. The key's thumbprint.
    async fn proven_key(
        &self,
        proof: &DpopRequest<'_>,
        access_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Thumbprint, Error> {
        let age = self.inner.policy.dpop_proof_age;
        let checked = check_proof(proof, access_token, now, age).map_err(refused)?;
        if self.inner.policy.dpop_nonce() {
            let keys = self.inner.codec.keys();
            let fresh = checked
                .nonce
                .as_deref()
                .is_some_and(|nonce| nonce::is_fresh(keys, nonce, now, age));
            if !fresh {
                let nonce = nonce::issue(keys, now);
                return Err(refused(ProofError::UseNonce { nonce }));
            }
        }
        // Remembered until the proof leaves the window on either side.
        let expires_at = checked.issued_at + age + TimeDelta::seconds(1);
        let first = self
            .inner
            .proof_replays
            .first_use(&checked.jkt, &checked.jti, expires_at, now)
            .await?;
        if !first {
            return Err(refused(ProofError::Replayed));
        }
        Ok(checked.jkt)
    }
}

/// The refusal of a proof before its device is known, traced as a security event (one
/// that names a device is reported by [`TrustedDevices::report_refusal`]).
fn refused(reason: ProofError) -> Error {
    tracing::info!(
        target: crate::event_log::TARGET,
        event = "dpop_proof_refused",
        reason = reason.reason(),
        "a DPoP proof was refused"
    );
    Error::DpopInvalid(reason)
}
