//! Rule K where the client's address is known (the HTTP layer calls these): login (for the
//! application's own handler), refresh and verify.

use std::net::IpAddr;

use crate::audit::Cause;
use crate::domain::{DeviceId, UserId};
use crate::error::Error;
use crate::event_log::TARGET;
use crate::events::Event;
use crate::rate_limit::{Admit, Bucket, RateKey, RateLimit, Take};
use crate::service::TrustedDevices;
use crate::token::{RefreshToken, Transport};

impl TrustedDevices {
    /// Rule K for the application's login handler, before it checks the password: logins
    /// from `client_ip`, and logins to `user_name` from that address's network. Beyond a
    /// limit: [`Error::RateLimited`] (429 `rate_limited` with `retry_after`); nothing is
    /// revoked, and other networks can still sign the user in.
    pub async fn check_login_rate(
        &self,
        client_ip: Option<IpAddr>,
        user_name: &str,
    ) -> Result<(), Error> {
        let policy = self.policy();
        // A name that is no valid user id belongs to no history.
        let user = UserId::new(user_name).ok();
        let who = Who {
            client_ip,
            user: user.as_ref(),
        };
        if let Some(ip) = client_ip {
            let key = RateKey::client(Bucket::LoginIp, ip);
            self.limit(&key, policy.login_rate_per_ip(), Take::One, who)
                .await?;
        }
        let key = RateKey::login_user(user_name, client_ip);
        self.limit(&key, policy.login_rate_per_user(), Take::One, who)
            .await
    }

    /// Rule K for `POST /auth/verify`.
    pub(crate) async fn check_verify_rate(&self, client_ip: Option<IpAddr>) -> Result<(), Error> {
        let Some(ip) = client_ip else { return Ok(()) };
        let key = RateKey::client(Bucket::VerifyIp, ip);
        self.limit(
            &key,
            self.policy().verify_rate_per_ip(),
            Take::One,
            Who::at(client_ip),
        )
        .await
    }

    /// Rule K for `POST /auth/refresh`, before the refresh: its address's bucket takes a
    /// token, its device's bucket is only looked at. Returns the device whose bucket
    /// [`count_refresh`](Self::count_refresh) takes from once the refresh succeeded.
    pub(crate) async fn check_refresh_rate(
        &self,
        client_ip: Option<IpAddr>,
        token: &str,
    ) -> Result<Option<DeviceId>, Error> {
        let policy = self.policy();
        if let Some(ip) = client_ip {
            let key = RateKey::client(Bucket::RefreshIp, ip);
            self.limit(
                &key,
                policy.refresh_rate_per_ip(),
                Take::One,
                Who::at(client_ip),
            )
            .await?;
        }
        let device = RefreshToken::parse_for(token, Transport::Bearer).map(|t| t.device_id());
        if let Some(device) = device {
            let key = RateKey::device(device);
            self.limit(
                &key,
                policy.refresh_rate_per_device(),
                Take::Peek,
                Who::at(client_ip),
            )
            .await?;
        }
        Ok(device)
    }

    /// Counts a genuine refresh of `device` (a forged token never gets here, so it cannot
    /// empty a victim's bucket).
    pub(crate) async fn count_refresh(&self, device: Option<DeviceId>, client_ip: Option<IpAddr>) {
        if let Some(device) = device {
            let limit = self.policy().refresh_rate_per_device();
            // Counting only: the refresh is done, its answer stands.
            let _ = self
                .limit(
                    &RateKey::device(device),
                    limit,
                    Take::One,
                    Who::at(client_ip),
                )
                .await;
        }
    }

    /// Checks one bucket; a refusal is an event and [`Error::RateLimited`]. A limiter that
    /// fails lets the request through (logged): an outage of the limiter's store must not
    /// stop every login.
    async fn limit(
        &self,
        key: &RateKey,
        limit: Option<RateLimit>,
        take: Take,
        who: Who<'_>,
    ) -> Result<(), Error> {
        let Some(limit) = limit.filter(|_| self.policy().rate_limits()) else {
            return Ok(());
        };
        let checked = self
            .inner
            .rate_limiter
            .check(key, limit, self.now(), take)
            .await;
        match checked {
            Ok(Admit::Yes) => Ok(()),
            Ok(Admit::RetryAfter(wait)) => {
                let limited = Event::RateLimited {
                    bucket: key.bucket(),
                    client_ip: who.client_ip,
                    user_id: who.user.cloned(),
                };
                let cause = Cause {
                    client_ip: who.client_ip,
                    ..Cause::default()
                };
                self.emit(limited, &cause).await;
                // Whole seconds, rounded up, at least one: a client retrying at once
                // after a sub-second wait would only be refused again.
                let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(Error::RateLimited {
                    retry_after: retry_after.max(1),
                })
            }
            Err(error) => {
                crate::telemetry::count_storage_error();
                tracing::warn!(
                    target: TARGET,
                    %error,
                    bucket = key.bucket().name(),
                    "rate limiter unavailable: request let through"
                );
                Ok(())
            }
        }
    }
}

/// Who a limited request came from, for the event and the history.
#[derive(Clone, Copy)]
struct Who<'a> {
    client_ip: Option<IpAddr>,
    user: Option<&'a UserId>,
}

impl Who<'_> {
    fn at(client_ip: Option<IpAddr>) -> Self {
        Self {
            client_ip,
            user: None,
        }
    }
}
