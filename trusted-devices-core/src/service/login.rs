//! Rule L: a login creates a device and its first token pair.

use chrono::{DateTime, Utc};

use crate::audit::Cause;
use crate::domain::{
    Device, DeviceId, DeviceInfo, Location, Software, UserId, truncate_user_agent,
};
use crate::dpop::{CheckedProof, DpopRequest};
use crate::error::Error;
use crate::events::{Event, LoginRejection, RevokeReason};
use crate::geolocation::locate_within;
use crate::risk;
use crate::service::{LoginRequest, TrustedDevices};
use crate::store::{CreateOutcome, DeviceLimit, RefreshRecord};
use crate::token::{RefreshToken, TokenPair, Transport};

/// What a successful login returns.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The tokens to hand to the client.
    pub tokens: TokenPair,
    /// The device created.
    pub device: Device,
}

impl From<LoginOutcome> for TokenPair {
    /// The tokens of a login, for its answer.
    fn from(outcome: LoginOutcome) -> Self {
        outcome.tokens
    }
}

impl TrustedDevices {
    /// Logs `user_id` in on a new device (rule L), within rule K's login limits for the
    /// client address `request.info.ip`.
    ///
    /// For sign-ins with no password to guess (a single sign-on callback, a magic link):
    /// a password login starts with [`attempt_login`](Self::attempt_login) before the
    /// password check instead. With `single_login` every other device of the user is
    /// revoked; at `max_devices` the policy's eviction mode applies, atomically in the
    /// repository.
    ///
    /// What the client presented comes as one [`LoginRequest`] (a [`DeviceInfo`] alone is a
    /// bearer login without a proof): tokens on its transport (cookie tokens are refused
    /// in headers and bodies, and the other way round, SPEC §8); with a DPoP proof (SPEC
    /// §9), a valid one binds the new device to its key and the pair says `token_type:
    /// "DPoP"`, while a refused one, or none under `dpop = required`, is `dpop_invalid` and
    /// creates nothing; with `dpop = off` the proof is ignored.
    pub async fn login(
        &self,
        user_id: UserId,
        request: impl Into<LoginRequest<'_>>,
    ) -> Result<LoginOutcome, Error> {
        let LoginRequest {
            info,
            transport,
            proof,
        } = request.into();
        self.limit_login(info.ip, &user_id).await?;
        let checked = self.check_login_proof(proof.as_ref(), self.now())?;
        self.create_login(user_id, info, transport, checked).await
    }

    /// Rule K for a login, before the application checks the password: the user name is
    /// validated first (a name that is no valid [`UserId`] is `invalid_request` and touches
    /// no bucket), then logins from `client_ip` and logins to that name from its network
    /// are counted. Beyond a limit: [`Error::RateLimited`]; nothing is revoked, and other
    /// networks can still sign the user in. The attempt then logs the user in without
    /// counting again.
    ///
    /// This is the one documented way to sign a user in with a password: the attempt
    /// first (limits, then the request's DPoP proof with [`LoginAttempt::with_proof`]),
    /// then the password, then [`LoginAttempt::login`]. An application that checked the
    /// password before asking would let a guesser try passwords without limit.
    ///
    /// ```
    /// # use trusted_devices_core::{DeviceInfo, Error, KeyRing, SigningKey, TrustedDevices};
    /// # async fn demo() -> Result<(), Error> {
    /// # let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap();
    /// # let service = TrustedDevices::builder(KeyRing::new(key)).build();
    /// let attempt = service.attempt_login("alice", Some([192, 0, 2, 1].into())).await?;
    /// let password_ok = true; // the application's own check, after the limits
    /// if !password_ok {
    ///     return Err(Error::InvalidCredentials);
    /// }
    /// let login = attempt.login(DeviceInfo::new()).await?;
    /// # let _ = login; Ok(()) }
    /// ```
    pub async fn attempt_login(
        &self,
        user_name: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<LoginAttempt<'_>, Error> {
        let user = UserId::new(user_name)?;
        self.limit_login(client_ip, &user).await?;
        Ok(LoginAttempt {
            service: self,
            user,
            proof: None,
        })
    }

    async fn create_login(
        &self,
        user_id: UserId,
        info: DeviceInfo,
        transport: Transport,
        proof: Option<CheckedProof>,
    ) -> Result<LoginOutcome, Error> {
        let now = self.now();
        let dpop_jkt = match self.record_login_proof(proof.as_ref(), now).await {
            Ok(key) => key,
            Err(error @ (Error::DpopInvalid(_) | Error::RateLimited { .. })) => {
                return Err(self.reject_login(user_id, &info, error).await);
            }
            Err(error) => return Err(error),
        };
        let location = self.locate(&info).await;
        let software = info.software();
        let device = Device {
            dpop_jkt,
            ..self.new_device(user_id, &info, &software, location, now)
        };
        let refresh_token =
            RefreshToken::generate_for(device.id, transport, self.inner.random.as_ref());
        // Rule G's signals compare with the user's other devices: read them only when
        // someone receives the signals (the hook, or the `tracing` event), so that they are
        // never reported against an empty list.
        let reported = self.inner.hook.is_some()
            || tracing::enabled!(target: crate::event_log::TARGET, tracing::Level::INFO);
        let earlier = if reported {
            self.inner.devices.list(&device.user_id).await?
        } else {
            Vec::new()
        };

        // The token goes first: a token whose device was never created is refused by
        // refresh, so a failure between the two writes leaves nothing usable behind.
        self.inner
            .tokens
            .insert(first_record(&device, &refresh_token, now))
            .await?;
        let limit = DeviceLimit::from_policy(&self.inner.policy);
        let created = self.inner.devices.create(device.clone(), limit).await;
        let displaced = match created {
            Ok(CreateOutcome::Created { displaced }) => displaced,
            Ok(CreateOutcome::LimitReached) => {
                self.discard_tokens_of(&[device.id]).await;
                let cause = Cause {
                    client_ip: info.ip,
                    location: device.location.clone(),
                    ..Cause::default()
                };
                self.emit(
                    Event::LoginRejected {
                        user_id: device.user_id,
                        reason: LoginRejection::TooManyDevices,
                    },
                    &cause,
                )
                .await;
                return Err(Error::TooManyDevices);
            }
            Err(error) => {
                self.discard_tokens_of(&[device.id]).await;
                return Err(error.into());
            }
        };

        let reason = if limit.single_login {
            RevokeReason::SingleLogin
        } else {
            RevokeReason::Evicted
        };
        let cause = Cause::device(&device, info.ip);
        self.finish_revocation(displaced, reason, &cause).await;
        let signals = risk::assess(&device, &software, &earlier, now);
        let created = Event::DeviceCreated {
            device: device.clone(),
            software,
            signals,
        };
        self.emit(created, &cause).await;
        let tokens = self.issue_pair(&device, refresh_token, now);
        Ok(LoginOutcome { tokens, device })
    }

    /// A login the application allowed (the password was right) and that was then
    /// refused for its proof: rule E's `LoginRejected` under the user, filed by rule H, so
    /// that a right password never goes unrecorded.
    async fn reject_login(&self, user_id: UserId, info: &DeviceInfo, error: Error) -> Error {
        let cause = Cause {
            client_ip: info.ip,
            ..Cause::default()
        };
        let event = Event::LoginRejected {
            user_id,
            reason: LoginRejection::ProofRefused,
        };
        self.emit(event, &cause).await;
        error
    }

    fn new_device(
        &self,
        user_id: UserId,
        info: &DeviceInfo,
        software: &Software,
        location: Option<Location>,
        now: DateTime<Utc>,
    ) -> Device {
        let id = DeviceId::generate(now, self.inner.random.as_ref());
        let user_agent = info.user_agent.as_deref().unwrap_or_default();
        Device {
            name: info.device_name_for(software),
            user_agent: truncate_user_agent(user_agent).to_owned(),
            ip: info.ip,
            last_ip: info.ip,
            location,
            metadata: info.metadata.clone(),
            ..self.inner.policy.new_device(id, user_id, now)
        }
    }

    /// A failed or timed-out lookup never fails the login: it leaves the device without a
    /// location.
    async fn locate(&self, info: &DeviceInfo) -> Option<Location> {
        let geolocator = self.inner.geolocator.as_ref()?;
        let deadline = self
            .inner
            .geolocation_timeout
            .as_ref()
            .map(|(timeout, timer)| timer.sleep(*timeout));
        locate_within(geolocator.locate(info), deadline).await
    }
}

/// A login that passed rule K's limits ([`TrustedDevices::attempt_login`]): log the user
/// in once the password is checked, or drop it.
#[must_use = "an attempt logs nobody in until `login` is called"]
#[derive(Debug)]
pub struct LoginAttempt<'s> {
    service: &'s TrustedDevices,
    user: UserId,
    /// The request's DPoP proof, checked before the password.
    proof: Option<CheckedProof>,
}

impl LoginAttempt<'_> {
    /// The validated user name.
    #[must_use]
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// Checks the request's DPoP proof, if it carries one (SPEC §9), **before** the
    /// application checks the password: its own checks and its server nonce, so that a
    /// refusal for the proof tells a guesser nothing about the password. A refused proof,
    /// or none under `dpop = required`, is `dpop_invalid` (with `dpop_nonce` on, a stale
    /// nonce asks for a fresh one); with `dpop = off` the proof is ignored. The login then
    /// binds its device to the proof's key.
    pub fn with_proof(mut self, proof: Option<DpopRequest<'_>>) -> Result<Self, Error> {
        let now = self.service.now();
        self.proof = self.service.check_login_proof(proof.as_ref(), now)?;
        Ok(self)
    }

    /// Logs the user in on a new device (rule L), without counting the limits again:
    /// tokens on `request.transport`, bound to the key of the proof given to
    /// [`with_proof`](Self::with_proof), if any. A proof in `request` itself is checked
    /// here, after the password: give it to `with_proof` before the password instead, so
    /// that a refusal for the proof tells a guesser nothing. A proof refused here (a
    /// replay, a key over its share, none under `dpop = required`) is `dpop_invalid` (or
    /// `rate_limited`) and a `LoginRejected` event under the user, filed in the history.
    pub async fn login(self, request: impl Into<LoginRequest<'_>>) -> Result<LoginOutcome, Error> {
        let LoginRequest {
            info,
            transport,
            proof,
        } = request.into();
        let now = self.service.now();
        // A proof given here is checked now; without one, the proof checked before the
        // password stands, and without either the policy decides (`required` refuses).
        let checked = match (proof, self.proof) {
            (Some(late), earlier) => self
                .service
                .check_login_proof(Some(&late), now)
                .map(|late| late.or(earlier)),
            (None, Some(earlier)) => Ok(Some(earlier)),
            (None, None) => self.service.check_login_proof(None, now),
        };
        let checked = match checked {
            Ok(checked) => checked,
            Err(error) => return Err(self.service.reject_login(self.user, &info, error).await),
        };
        self.service
            .create_login(self.user, info, transport, checked)
            .await
    }
}

fn first_record(device: &Device, token: &RefreshToken, now: DateTime<Utc>) -> RefreshRecord {
    RefreshRecord {
        hash: token.hash(),
        device_id: device.id,
        user_id: device.user_id.clone(),
        issued_at: now,
        expires_at: device.deadline(),
        rotated: None,
    }
}
