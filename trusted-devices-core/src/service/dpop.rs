//! SPEC §9 in the service: which key a login binds its device to, and proving that a
//! request of a bound device comes from the key's holder. Every refusal is
//! `dpop_invalid`, changes nothing, and is a `tracing` security event.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::Cause;
use crate::domain::Device;
use crate::dpop::{
    CheckedProof, DpopRequest, ProofError, ProofUse, Thumbprint, check_proof, nonce,
};
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

    /// A login's proof, checked before the password (SPEC §9, "Order"): its own checks
    /// and its nonce. Nothing is recorded yet: its `jti` enters the replay cache only once
    /// the login is allowed ([`record_login_proof`](Self::record_login_proof)), so that
    /// proofs by keys nobody is bound to never fill the cache. None without a proof
    /// (refused under `dpop = required`) or with `dpop = off`.
    pub(super) fn check_login_proof(
        &self,
        proof: Option<&DpopRequest<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Option<CheckedProof>, Error> {
        match (self.inner.policy.dpop(), proof) {
            (DpopMode::Off, _) => Ok(None),
            (DpopMode::Required, None) => Err(refused(ProofError::Missing)),
            (DpopMode::Allowed, None) => Ok(None),
            (_, Some(proof)) => {
                let checked = self.checked(proof, None, now)?;
                self.require_nonce(&checked, now)?;
                Ok(Some(checked))
            }
        }
    }

    /// The key a login binds its device to, once its proof's `jti` is recorded as used
    /// (the key becomes the binding here, so the proof matters).
    pub(super) async fn record_login_proof(
        &self,
        checked: Option<&CheckedProof>,
        now: DateTime<Utc>,
    ) -> Result<Option<Thumbprint>, Error> {
        let Some(checked) = checked else {
            return Ok(None);
        };
        self.record_use(checked, now).await?;
        Ok(Some(checked.jkt.clone()))
    }

    /// For a device bound to a key: the request's proof must be by that key (and name
    /// `access_token` when one is presented). The key is compared with the binding before
    /// the nonce and before anything is recorded: a proof by any other key is refused as
    /// `wrong_key` (reported by the caller) and never enters the replay cache. An unbound
    /// device needs nothing here.
    pub(super) async fn prove_holder(
        &self,
        device: &Device,
        proof: Option<&DpopRequest<'_>>,
        access_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ProvenHolder, Error> {
        let Some(bound) = &device.dpop_jkt else {
            return Ok(ProvenHolder::default());
        };
        let proof = proof.ok_or(Error::DpopInvalid(ProofError::Missing))?;
        let checked = self.checked(proof, access_token, now)?;
        if &checked.jkt != bound {
            return Err(Error::DpopInvalid(ProofError::WrongKey));
        }
        let nonce_age = self.require_nonce(&checked, now)?;
        self.record_use(&checked, now).await?;
        Ok(ProvenHolder {
            next_nonce: self.nonce_due(nonce_age, now),
        })
    }

    /// RFC 9449 section 4.3's checks of the proof itself (no storage).
    fn checked(
        &self,
        proof: &DpopRequest<'_>,
        access_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<CheckedProof, Error> {
        check_proof(proof, access_token, now, self.inner.policy.dpop_proof_age).map_err(refused)
    }

    /// With `dpop_nonce` on, a proof must carry a nonce this service issued within the
    /// window; otherwise the refusal hands out a fresh one. The nonce's age, when nonces
    /// are on.
    fn require_nonce(
        &self,
        checked: &CheckedProof,
        now: DateTime<Utc>,
    ) -> Result<Option<TimeDelta>, Error> {
        let policy = &self.inner.policy;
        if !policy.dpop_nonce() {
            return Ok(None);
        }
        let keys = self.inner.codec.keys();
        let age = checked
            .nonce
            .as_deref()
            .and_then(|nonce| nonce::age_if_fresh(keys, nonce, now, policy.dpop_proof_age));
        match age {
            Some(age) => Ok(Some(age)),
            None => {
                let nonce = nonce::issue(keys, now);
                Err(refused(ProofError::UseNonce { nonce }))
            }
        }
    }

    /// A fresh nonce for the answer when the proof's, `age` old, is past half its life
    /// (RFC 9449 section 8.2: the client gets the next one before the old one expires).
    fn nonce_due(&self, age: Option<TimeDelta>, now: DateTime<Utc>) -> Option<String> {
        let half = self.inner.policy.dpop_proof_age / 2;
        age.filter(|age| *age > half)
            .map(|_| nonce::issue(self.inner.codec.keys(), now))
    }

    /// The proof's `jti`, used once for the window. More proofs by one key than its
    /// share is 429 `rate_limited`: a busy client, never a theft.
    async fn record_use(&self, checked: &CheckedProof, now: DateTime<Utc>) -> Result<(), Error> {
        // Remembered until the proof leaves the window on either side.
        let age = self.inner.policy.dpop_proof_age;
        let expires_at = checked.issued_at + age + TimeDelta::seconds(1);
        let used = self
            .inner
            .proof_replays
            .first_use(&checked.jkt, &checked.jti, expires_at, now)
            .await?;
        match used {
            ProofUse::First => Ok(()),
            ProofUse::Replayed => Err(refused(ProofError::Replayed)),
            _ => {
                tracing::info!(
                    target: crate::event_log::TARGET,
                    event = "dpop_proof_share_used",
                    jkt = checked.jkt.as_str(),
                    "a DPoP key sent more proofs than its share of the window"
                );
                Err(Error::RateLimited { retry_after: 1 })
            }
        }
    }
}

/// What proving the holder of a bound device's key gives the request's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ProvenHolder {
    /// A fresh server nonce for a `DPoP-Nonce` header, when the proof's is due for
    /// renewal.
    pub(super) next_nonce: Option<String>,
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
