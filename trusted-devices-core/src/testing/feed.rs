//! Rule T across servers, for any repository and revocation feed pair: services built over
//! one storage, each with its own feed connection, and a `device_cache_ttl` long enough
//! (a minute or more) that only the feed can explain a refusal.

use std::future::Future;
use std::time::{Duration, Instant};

use std::sync::Arc;

use crate::cache::RevocationFeed;
use crate::domain::DeviceInfo;
use crate::error::Error;
use crate::policy::Policy;
use crate::service::TrustedDevices;
use crate::store::{DeviceRepository, TokenStore};
use crate::testing::unique_user;
use crate::token::{KeyRing, SigningKey};

/// One server's stores and its own feed connection.
pub type ServerParts = (
    Arc<dyn DeviceRepository>,
    Arc<dyn TokenStore>,
    Arc<dyn RevocationFeed>,
);

/// `count` services for these checks, each over what one call of `connect` gives (its own
/// connections and feed), caching devices for an hour, with no delete delay.
pub async fn servers<F, Fut>(count: usize, mut connect: F) -> Vec<TrustedDevices>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ServerParts>,
{
    let policy = Policy::builder()
        .delete_delay(Duration::ZERO)
        .device_cache_ttl(Duration::from_secs(3_600))
        .build()
        .unwrap();
    let mut servers = Vec::with_capacity(count);
    for _ in 0..count {
        let (devices, tokens, feed) = connect().await;
        let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap();
        servers.push(
            TrustedDevices::builder(KeyRing::new(key))
                .policy(policy.clone())
                .devices(devices)
                .tokens(tokens)
                .revocation_feed(feed)
                .build(),
        );
    }
    servers
}

/// How long a check waits for a server to refuse before it fails.
const PATIENCE: Duration = Duration::from_secs(5);

fn long_ttl(servers: &[TrustedDevices]) {
    for server in servers {
        assert!(
            server.policy().device_cache_ttl() >= Duration::from_secs(60),
            "rule T feed checks need a device_cache_ttl of a minute or more"
        );
    }
}

/// Polls `server` until it refuses `token`; the time it took.
async fn refused_after(server: &TrustedDevices, token: &str) -> Duration {
    let started = Instant::now();
    loop {
        match server.authenticate(token, None).await {
            Err(Error::DeviceRevoked) => return started.elapsed(),
            Err(other) => panic!("rule T (feed): refused with {other:?}, not device_revoked"),
            Ok(_) => {}
        }
        assert!(
            started.elapsed() < PATIENCE,
            "rule T (feed): a revoked device still served after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Rule T: a device cached on every server and revoked on the first is refused by the first
/// on its next request and by every other once its feed delivers. Returns how long each
/// server took from the revocation's answer; servers are polled one after another, so each
/// figure is an upper bound.
pub async fn revocation_reaches_every_server(servers: &[TrustedDevices]) -> Vec<Duration> {
    long_ttl(servers);
    let first = servers.first().expect("rule T (feed): no server");
    let user = unique_user("feed");
    let owner = first.login(user.clone(), DeviceInfo::new()).await.unwrap();
    let phone = first.login(user, DeviceInfo::new()).await.unwrap();
    let token = phone.tokens.access_token.as_str();
    for server in servers {
        server
            .authenticate(token, None)
            .await
            .expect("rule T (feed): the device is served before its revocation");
    }
    let acting = first
        .authenticate(&owner.tokens.access_token, None)
        .await
        .unwrap();
    first.delete(&acting, phone.device.id).await.unwrap();
    let revoked = Instant::now();
    assert!(
        matches!(
            first.authenticate(token, None).await,
            Err(Error::DeviceRevoked)
        ),
        "rule T (feed): the revoking server refuses on its very next request"
    );
    let polls = servers.iter().map(|server| refused_after(server, token));
    let mut delays = Vec::new();
    for poll in polls {
        let _ = poll.await;
        delays.push(revoked.elapsed());
    }
    delays
}

/// Rule T: while a feed's connection is down its cache is bypassed, and once it is back the
/// cache is flushed. A device cached on `servers[1]` is deleted straight from `storage`
/// (published nowhere) after `cut` severs every feed connection: `servers[1]` must refuse
/// it within seconds, not after `device_cache_ttl`. Returns how long that took.
pub async fn feed_loss_never_serves_stale<F>(
    servers: &[TrustedDevices],
    storage: &dyn DeviceRepository,
    cut: F,
) -> Duration
where
    F: Future<Output = ()>,
{
    long_ttl(servers);
    let (Some(first), Some(second)) = (servers.first(), servers.get(1)) else {
        panic!("rule T (feed): needs two servers");
    };
    let user = unique_user("feed-loss");
    let phone = first.login(user.clone(), DeviceInfo::new()).await.unwrap();
    let token = phone.tokens.access_token.as_str();
    second
        .authenticate(token, None)
        .await
        .expect("rule T (feed): cached before the cut");
    cut.await;
    storage.delete(&user, phone.device.id).await.unwrap();
    refused_after(second, token).await
}
