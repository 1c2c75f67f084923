//! Rule T under a revocation feed: the device cache. Two services over one storage stand for
//! two servers; the feed between them is in-process, with switches for a dropped connection
//! and for lost deliveries. Time is a manual clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::TimeDelta;
use trusted_devices_core::cache::{FeedListener, LocalFeed, RevocationFeed};
use trusted_devices_core::memory::{MemoryDeviceRepository, MemoryTokenStore};
use trusted_devices_core::{
    DeviceId, DeviceInfo, DeviceName, DevicePatch, DeviceRepository, Error, KeyRing, LoginOutcome,
    ManualClock, Policy, PolicyBuilder, SigningKey, StorageError, TrustedDevices, UserId,
    async_trait,
};

/// One server's end of an in-process feed: `live` switches its connection, `delivering`
/// drops what the others publish (a silent feed).
struct TestFeed {
    network: Arc<LocalFeed>,
    live: AtomicBool,
    delivering: Arc<AtomicBool>,
}

struct Gate {
    listener: Arc<dyn FeedListener>,
    open: Arc<AtomicBool>,
}

impl FeedListener for Gate {
    fn changed(&self, device: DeviceId) {
        if self.open.load(Ordering::SeqCst) {
            self.listener.changed(device);
        }
    }
    fn flush(&self) {
        self.listener.flush();
    }
}

#[async_trait]
impl RevocationFeed for TestFeed {
    async fn publish(&self, devices: &[DeviceId]) -> Result<(), StorageError> {
        self.network.publish(devices).await
    }
    fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }
    fn subscribe(&self, listener: Arc<dyn FeedListener>) {
        let open = self.delivering.clone();
        self.network.subscribe(Arc::new(Gate { listener, open }));
    }
}

struct Servers {
    a: TrustedDevices,
    b: TrustedDevices,
    b_feed: Arc<TestFeed>,
    storage: Arc<MemoryDeviceRepository>,
    clock: Arc<ManualClock>,
}

fn servers(policy: PolicyBuilder) -> Servers {
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let storage = Arc::new(MemoryDeviceRepository::new());
    let tokens = Arc::new(MemoryTokenStore::new());
    let network = Arc::new(LocalFeed::new());
    let feed = || {
        Arc::new(TestFeed {
            network: network.clone(),
            live: AtomicBool::new(true),
            delivering: Arc::new(AtomicBool::new(true)),
        })
    };
    let policy = policy
        .delete_delay(Duration::ZERO)
        .update_delay(Duration::ZERO)
        .build()
        .unwrap();
    let server = |feed: Arc<TestFeed>| {
        let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap();
        TrustedDevices::builder(KeyRing::new(key))
            .policy(policy.clone())
            .clock(clock.clone())
            .devices(storage.clone())
            .tokens(tokens.clone())
            .revocation_feed(feed)
            .build()
    };
    let b_feed = feed();
    Servers {
        a: server(feed()),
        b: server(b_feed.clone()),
        b_feed,
        storage,
        clock,
    }
}

async fn login(server: &TrustedDevices) -> LoginOutcome {
    let alice = UserId::new("alice").unwrap();
    server.login(alice, DeviceInfo::new()).await.unwrap()
}

async fn authenticate(server: &TrustedDevices, login: &LoginOutcome) -> Result<String, Error> {
    let acting = server
        .authenticate(&login.tokens.access_token, None)
        .await?;
    Ok(acting.device.name.as_str().to_owned())
}

#[tokio::test]
async fn rule_t_cache_the_revoking_server_refuses_on_its_next_request() {
    let s = servers(Policy::builder());
    let (owner, phone) = (login(&s.a).await, login(&s.a).await);
    authenticate(&s.a, &phone).await.unwrap();
    let acting =
        s.a.authenticate(&owner.tokens.access_token, None)
            .await
            .unwrap();
    s.a.delete(&acting, phone.device.id).await.unwrap();
    assert!(matches!(
        authenticate(&s.a, &phone).await,
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test]
async fn rule_t_cache_other_servers_drop_the_entry_when_the_feed_delivers() {
    let s = servers(Policy::builder());
    let (owner, phone) = (login(&s.a).await, login(&s.a).await);
    authenticate(&s.b, &phone).await.unwrap();
    let acting =
        s.a.authenticate(&owner.tokens.access_token, None)
            .await
            .unwrap();
    let renamed = DevicePatch {
        name: Some(DeviceName::new("Lost phone").unwrap()),
        ..DevicePatch::default()
    };
    s.a.update(&acting, phone.device.id, &renamed)
        .await
        .unwrap();
    assert_eq!(authenticate(&s.b, &phone).await.unwrap(), "Lost phone");
    s.a.delete(&acting, phone.device.id).await.unwrap();
    assert!(matches!(
        authenticate(&s.b, &phone).await,
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test]
async fn rule_t_cache_is_bypassed_while_the_feed_is_down() {
    let s = servers(Policy::builder());
    let phone = login(&s.a).await;
    authenticate(&s.b, &phone).await.unwrap();
    s.b_feed.live.store(false, Ordering::SeqCst);
    // Removed behind every cache's back: only a storage read can know.
    let alice = UserId::new("alice").unwrap();
    s.storage.delete(&alice, phone.device.id).await.unwrap();
    assert!(matches!(
        authenticate(&s.b, &phone).await,
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test]
async fn rule_t_cache_entries_never_outlive_device_cache_ttl_when_the_feed_is_silent() {
    let s = servers(Policy::builder().device_cache_ttl(Duration::from_secs(1)));
    let phone = login(&s.a).await;
    authenticate(&s.b, &phone).await.unwrap();
    s.b_feed.delivering.store(false, Ordering::SeqCst);
    let owner = login(&s.a).await;
    let acting =
        s.a.authenticate(&owner.tokens.access_token, None)
            .await
            .unwrap();
    s.a.delete(&acting, phone.device.id).await.unwrap();
    // The delivery was lost: server B may serve its entry, but only within the TTL.
    s.clock.advance(TimeDelta::milliseconds(999));
    assert!(
        authenticate(&s.b, &phone).await.is_ok(),
        "served from cache"
    );
    s.clock.advance(TimeDelta::milliseconds(1));
    assert!(matches!(
        authenticate(&s.b, &phone).await,
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test]
async fn rule_t_cache_session_deadlines_are_checked_on_every_request() {
    let policy = Policy::builder()
        .device_cache_ttl(Duration::from_secs(86_400))
        .access_token_ttl(Duration::from_secs(7_200))
        .refresh_idle_timeout(Duration::from_secs(3_600))
        .refresh_reuse_grace(Duration::from_secs(1));
    let s = servers(policy);
    let phone = login(&s.a).await;
    authenticate(&s.b, &phone).await.unwrap();
    s.clock.advance(TimeDelta::seconds(3_600));
    // The token is still valid and the device still cached, but its idle deadline passed.
    assert!(matches!(
        authenticate(&s.b, &phone).await,
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test]
async fn rule_t_cache_a_zero_ttl_is_no_cache() {
    let s = servers(Policy::builder().device_cache_ttl(Duration::ZERO));
    let phone = login(&s.a).await;
    authenticate(&s.b, &phone).await.unwrap();
    s.b_feed.delivering.store(false, Ordering::SeqCst);
    let alice = UserId::new("alice").unwrap();
    s.storage.delete(&alice, phone.device.id).await.unwrap();
    assert!(matches!(
        authenticate(&s.b, &phone).await,
        Err(Error::DeviceRevoked)
    ));
}

/// A feed whose `is_live` answers true and, on its `deliver_on`-th call, delivers a
/// revocation of `device`: the revocation is stored (the device deleted from `storage`) and
/// the change reaches the cache at that very moment.
struct RevokingFeed {
    storage: Arc<MemoryDeviceRepository>,
    device: std::sync::Mutex<Option<(UserId, DeviceId)>>,
    listener: std::sync::Mutex<Option<Arc<dyn FeedListener>>>,
    calls: std::sync::atomic::AtomicUsize,
    deliver_on: usize,
}

#[async_trait]
impl RevocationFeed for RevokingFeed {
    async fn publish(&self, _: &[DeviceId]) -> Result<(), StorageError> {
        Ok(())
    }
    fn is_live(&self) -> bool {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let target = self.device.lock().unwrap().clone();
        if call == self.deliver_on
            && let Some((user, id)) = target
        {
            // The memory store answers at once: poll its delete to completion here.
            let mut delete = self.storage.delete(&user, id);
            let waker = std::task::Waker::noop();
            let done = delete
                .as_mut()
                .poll(&mut std::task::Context::from_waker(waker));
            assert!(done.is_ready());
            if let Some(listener) = self.listener.lock().unwrap().as_ref() {
                listener.changed(id);
            }
        }
        true
    }
    fn subscribe(&self, listener: Arc<dyn FeedListener>) {
        *self.listener.lock().unwrap() = Some(listener);
    }
}

/// Issue 23, finding 8: the cache checked the revocation generation, then inserted; a
/// revocation delivered between the two left the revoked device cached for up to the TTL,
/// even on the revoking server. The feed here delivers the revocation exactly there (its
/// second `is_live` call in the read), and the next read must not find the device.
#[tokio::test]
async fn rule_t_cache_a_revocation_between_check_and_insert_is_not_undone() {
    use trusted_devices_core::cache::CachedDevices;

    let storage = Arc::new(MemoryDeviceRepository::new());
    let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
    let service = TrustedDevices::builder(KeyRing::new(
        SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap(),
    ))
    .clock(clock.clone())
    .devices(storage.clone())
    .build();
    let login = login(&service).await;
    let feed = Arc::new(RevokingFeed {
        storage: storage.clone(),
        device: std::sync::Mutex::new(Some((login.device.user_id.clone(), login.device.id))),
        listener: std::sync::Mutex::new(None),
        calls: std::sync::atomic::AtomicUsize::new(0),
        deliver_on: 2,
    });
    let cache = CachedDevices::new(storage.clone(), feed, clock, TimeDelta::seconds(60), 16);
    let first = cache.get_shared(login.device.id).await.unwrap();
    assert!(first.is_some(), "read before the revocation was stored");
    let again = cache.get_shared(login.device.id).await.unwrap();
    assert!(
        again.is_none(),
        "the revoked device must not be served from the cache"
    );
}
