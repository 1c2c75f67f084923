//! Checks shared by the SQLite and PostgreSQL tests that look into the tables themselves.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::TimeDelta;
use trusted_devices_core::testing::unique_user;
use trusted_devices_core::{
    DeviceInfo, DeviceRepository, KeyRing, ManualClock, SigningKey, TokenStore, TrustedDevices,
};

/// Refresh tokens, point 7: a consumed token's sealed successor is forgotten once the reuse
/// grace (10 s) has passed, by the device's next rotation or else by cleanup, while the
/// consumed record stays for reuse detection. `count` answers (sealed, consumed) records
/// of a user, read from the table.
pub(crate) async fn refresh_tokens_seals_are_forgotten_after_the_grace<F, Fut>(
    devices: Arc<dyn DeviceRepository>,
    tokens: Arc<dyn TokenStore>,
    count: F,
) where
    F: Fn(String) -> Fut,
    Fut: Future<Output = (i64, i64)>,
{
    let clock = Arc::new(ManualClock::at_unix_seconds(1_900_000_000));
    let key = SigningKey::new("seals", &[9u8; 32]).unwrap();
    let service = TrustedDevices::builder(KeyRing::new(key))
        .clock(clock.clone())
        .devices(devices)
        .tokens(tokens)
        .build();
    let user = unique_user("seals");
    let login = service
        .login(user.clone(), DeviceInfo::new())
        .await
        .unwrap();
    let second = service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    let name = user.as_str().to_owned();
    assert_eq!(count(name.clone()).await, (1, 1), "kept within the grace");
    clock.advance(TimeDelta::seconds(11));
    service
        .refresh(second.refresh_token.expose(), None)
        .await
        .unwrap();
    assert_eq!(
        count(name.clone()).await,
        (1, 2),
        "the next rotation forgot the seal past its grace, and kept the record"
    );
    clock.advance(TimeDelta::seconds(11));
    service
        .cleanup(service.now(), NonZeroU32::new(100).unwrap())
        .await
        .unwrap();
    assert_eq!(count(name).await, (0, 2), "cleanup forgot the last seal");
    let replay = service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await;
    assert!(
        matches!(replay, Err(trusted_devices_core::Error::RefreshTokenReused)),
        "reuse is still detected: {replay:?}"
    );
}
