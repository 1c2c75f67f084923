//! A service over in-memory stores with a manual clock and a recording hook.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::TimeDelta;
use trusted_devices_core::memory::{MemoryDeviceRepository, MemoryTokenStore};
use trusted_devices_core::{
    Authenticated, BoxError, Clock, DeviceInfo, Event, EventHook, KeyRing, LoginOutcome,
    ManualClock, Policy, PolicyBuilder, SeededRandom, SigningKey, TrustedDevices, UserId,
};

pub const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

pub fn keys() -> KeyRing {
    KeyRing::new(SigningKey::new("k1", SECRET).unwrap())
}

#[derive(Default)]
pub struct RecordingHook {
    pub events: Mutex<Vec<Event>>,
    pub fail: bool,
}

#[async_trait]
impl EventHook for RecordingHook {
    async fn on_event(&self, event: &Event) -> Result<(), BoxError> {
        self.events.lock().unwrap().push(event.clone());
        if self.fail {
            return Err("hook is down".into());
        }
        Ok(())
    }
}

impl RecordingHook {
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

pub struct Fixture {
    pub service: TrustedDevices,
    pub clock: Arc<ManualClock>,
    pub hook: Arc<RecordingHook>,
    pub devices: Arc<MemoryDeviceRepository>,
    pub tokens: Arc<MemoryTokenStore>,
}

impl Fixture {
    pub fn new(policy: PolicyBuilder) -> Self {
        Self::with_hook(policy, RecordingHook::default())
    }

    pub fn with_hook(policy: PolicyBuilder, hook: RecordingHook) -> Self {
        let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
        let hook = Arc::new(hook);
        let devices = Arc::new(MemoryDeviceRepository::new());
        let tokens = Arc::new(MemoryTokenStore::new());
        let service = TrustedDevices::builder(keys())
            .policy(policy.build().unwrap())
            .clock(clock.clone())
            .random(Arc::new(SeededRandom::new(7)))
            .devices(devices.clone())
            .tokens(tokens.clone())
            .hook(hook.clone())
            .build();
        Self {
            service,
            clock,
            hook,
            devices,
            tokens,
        }
    }

    pub fn defaults() -> Self {
        Self::new(Policy::builder())
    }

    pub async fn login(&self, user: &str) -> LoginOutcome {
        self.login_with(user, DeviceInfo::new()).await
    }

    pub async fn login_with(&self, user: &str, info: DeviceInfo) -> LoginOutcome {
        self.service
            .login(UserId::new(user).unwrap(), info)
            .await
            .unwrap()
    }

    pub async fn acting(&self, login: &LoginOutcome) -> Authenticated {
        self.service
            .authenticate(&login.tokens.access_token, None)
            .await
            .unwrap()
    }

    pub async fn devices_get(
        &self,
        id: trusted_devices_core::DeviceId,
    ) -> trusted_devices_core::Device {
        use trusted_devices_core::DeviceRepository as _;
        self.devices.get(id).await.unwrap().unwrap()
    }

    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
