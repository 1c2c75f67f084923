//! Rule K, applied by the service itself: login, refresh (and sign-out by refresh token)
//! and verify take from their buckets inside the service's own methods, so an
//! application's own route is limited exactly like the built-in ones. Buckets are keyed
//! by the client: a call with no client address (a test, a back-office job) is not a
//! client's request and takes from no bucket.

use std::net::IpAddr;

use chrono::TimeDelta;

use crate::audit::Cause;
use crate::domain::{DeviceId, UserId};
use crate::error::Error;
use crate::event_log::TARGET;
use crate::events::Event;
use crate::rate_limit::{Admit, Bucket, RateKey, RateLimit, Take};
use crate::service::TrustedDevices;

impl TrustedDevices {
    /// Rule K for a login: logins from `client_ip`, logins to `user` from that address's
    /// network, and logins to `user` from every network together. Without a client
    /// address (a call that is no client's request) no bucket applies.
    pub(super) async fn limit_login(
        &self,
        client_ip: Option<IpAddr>,
        user: &UserId,
    ) -> Result<(), Error> {
        let Some(ip) = client_ip else { return Ok(()) };
        let policy = self.policy();
        let who = Who {
            client_ip,
            user: Some(user),
        };
        let key = RateKey::client(Bucket::LoginIp, ip, policy.rate_limit_ipv6_prefix());
        // Rule H: a per-address refusal is never filed under the user it named.
        let checked = self
            .limit(
                &key,
                policy.login_rate_per_ip(),
                Take::One,
                Who::at(client_ip),
            )
            .await?;
        if checked == Checked::Unavailable {
            return Ok(());
        }
        let key = RateKey::login_user(user.as_str(), client_ip);
        let checked = self
            .limit(&key, policy.login_rate_per_user(), Take::One, who)
            .await?;
        if checked == Checked::Unavailable {
            return Ok(());
        }
        let key = RateKey::login_name(user.as_str());
        self.limit(&key, policy.login_rate_per_name(), Take::One, who)
            .await
            .map(drop)
    }

    /// Rule K for a verification from `client_ip`.
    pub(super) async fn limit_verify(&self, client_ip: Option<IpAddr>) -> Result<(), Error> {
        let Some(ip) = client_ip else { return Ok(()) };
        let policy = self.policy();
        let key = RateKey::client(Bucket::VerifyIp, ip, policy.rate_limit_ipv6_prefix());
        self.limit(
            &key,
            policy.verify_rate_per_ip(),
            Take::One,
            Who::at(client_ip),
        )
        .await
        .map(drop)
    }

    /// Rule K before a refresh (or a sign-out by refresh token) of `device` from
    /// `client_ip`: the address's bucket takes a token, the device's bucket is only looked
    /// at; [`count_refresh`](Self::count_refresh) takes from it once the refresh proved
    /// genuine, so that a forged token cannot empty a victim's bucket.
    pub(super) async fn limit_refresh(
        &self,
        client_ip: Option<IpAddr>,
        device: DeviceId,
    ) -> Result<(), Error> {
        let Some(ip) = client_ip else { return Ok(()) };
        let policy = self.policy();
        let key = RateKey::client(Bucket::RefreshIp, ip, policy.rate_limit_ipv6_prefix());
        let checked = self
            .limit(
                &key,
                policy.refresh_rate_per_ip(),
                Take::One,
                Who::at(client_ip),
            )
            .await?;
        if checked == Checked::Unavailable {
            return Ok(());
        }
        self.limit(
            &RateKey::device(device),
            policy.refresh_rate_per_device(),
            Take::Peek,
            Who::at(client_ip),
        )
        .await
        .map(drop)
    }

    /// Counts a genuine refresh of `device`.
    pub(super) async fn count_refresh(&self, device: DeviceId, client_ip: Option<IpAddr>) {
        if client_ip.is_none() {
            return;
        }
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

    /// Checks one bucket; a refusal is an event and [`Error::RateLimited`]. A limiter that
    /// fails lets the request through (logged): an outage of the limiter's store must not
    /// stop every login. It answers [`Checked::Unavailable`] then, so that a request with
    /// several buckets does not wait for the unreachable store once per bucket.
    async fn limit(
        &self,
        key: &RateKey,
        limit: Option<RateLimit>,
        take: Take,
        who: Who<'_>,
    ) -> Result<Checked, Error> {
        let Some(limit) = limit.filter(|_| self.policy().rate_limits()) else {
            return Ok(Checked::Admitted);
        };
        let checked = self
            .inner
            .rate_limiter
            .check(key, limit, self.now(), take)
            .await;
        match checked {
            Ok(Admit::Yes) => Ok(Checked::Admitted),
            // Boxed: the refusal announces and files an event, a large future that the
            // usual admitted request (and every caller's future) should not carry.
            Ok(Admit::RetryAfter(wait)) => Err(Box::pin(self.refuse(key, limit, wait, who)).await),
            Err(error) => {
                crate::telemetry::count_storage_error();
                tracing::warn!(
                    target: TARGET,
                    %error,
                    bucket = key.bucket().name(),
                    "rate limiter unavailable: request let through"
                );
                Ok(Checked::Unavailable)
            }
        }
    }
}

impl TrustedDevices {
    /// A refusal by `key`'s bucket: the event, the history entry when the limit begins,
    /// and [`Error::RateLimited`] with the wait in whole seconds.
    async fn refuse(
        &self,
        key: &RateKey,
        limit: RateLimit,
        wait: std::time::Duration,
        who: Who<'_>,
    ) -> Error {
        let limited = Event::RateLimited {
            bucket: key.bucket(),
            client_ip: who.client_ip,
            user_id: who.user.cloned(),
        };
        let cause = Cause {
            client_ip: who.client_ip,
            ..Cause::default()
        };
        self.announce(&limited).await;
        // Rule H: a limit is filed when it begins, not once per refused request, so that
        // nobody can bury a user's history by trying their name.
        let window = TimeDelta::from_std(limit.window()).unwrap_or(TimeDelta::MAX);
        if self
            .inner
            .limiting
            .begins_run(&key.filed_as(), self.now(), window)
        {
            self.file(&limited, &cause).await;
        }
        // Whole seconds, rounded up, at least one: a client retrying at once after a
        // sub-second wait would only be refused again.
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Error::RateLimited {
            retry_after: retry_after.max(1),
        }
    }
}

/// What a bucket check found, when it let the request through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// The bucket admitted it (or no limit applies).
    Admitted,
    /// The limiter could not be asked: let through, and not asked again for this request.
    Unavailable,
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

/// How many limited buckets are remembered (each a key of at most a few hundred bytes, the
/// user name validated): beyond it the least used are forgotten, and a limit of theirs that
/// goes on is filed once more.
pub(super) const LIMITING_CAPACITY: usize = 10_000;
