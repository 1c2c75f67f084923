//! Rule R: opaque rotating refresh tokens, stored as hashes, with the reuse grace.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::TimeDelta;
use common::Fixture;
use trusted_devices_core::{Error, Event, RevokeReason};

#[tokio::test]
async fn rule_r_refresh_rotates_and_moves_the_idle_deadline() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    f.advance(TimeDelta::days(29));
    let pair = f
        .service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    assert_ne!(pair.refresh_token, login.tokens.refresh_token);
    assert_eq!(pair.device_id, login.device.id);
    assert!(
        f.service
            .authenticate(&pair.access_token, None)
            .await
            .is_ok()
    );
    let device = f
        .service
        .devices()
        .get(login.device.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        device.idle_expires_at,
        f.now() + TimeDelta::days(30),
        "idle deadline moved"
    );
    f.advance(TimeDelta::days(29));
    assert!(
        f.service
            .refresh(pair.refresh_token.expose(), None)
            .await
            .is_ok(),
        "58 days in, still alive"
    );
}

#[tokio::test]
async fn rule_r_only_hashes_are_stored() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let token = login.tokens.refresh_token.expose();
    let stored = format!("{:?}", f.tokens);
    let secret_part = token.trim_start_matches("tdr_");
    assert!(!stored.contains(secret_part), "the token itself is stored");
    assert!(token.len() >= 4 + 43, "at least 256 bits of base64url");
}

#[tokio::test]
async fn rule_r_replay_within_grace_returns_the_same_successor() {
    let f = Fixture::defaults(); // grace 10 s
    let login = f.login("alice").await;
    let first = f
        .service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    f.advance(TimeDelta::seconds(10));
    let again = f
        .service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    assert_eq!(again.refresh_token, first.refresh_token);
    assert!(
        f.service
            .authenticate(&again.access_token, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn rule_r_reuse_after_grace_revokes_the_device() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let successor = f
        .service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    f.advance(TimeDelta::seconds(11));
    f.hook.take();
    let reuse = f
        .service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await;
    assert!(matches!(reuse, Err(Error::RefreshTokenReused)));
    assert!(matches!(
        f.service.authenticate(&successor.access_token, None).await,
        Err(Error::DeviceRevoked)
    ));
    assert!(
        f.service
            .refresh(successor.refresh_token.expose(), None)
            .await
            .is_err()
    );
    assert_eq!(f.tokens.len(), 0, "every token of the device is gone");
    let events = f.hook.take();
    assert!(matches!(events[0], Event::RefreshReuseDetected { .. }));
    assert!(matches!(
        events[1],
        Event::DeviceRevoked {
            reason: RevokeReason::RefreshReuse,
            ..
        }
    ));
}

#[tokio::test]
async fn rule_r_garbage_tokens_are_refresh_token_invalid() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let real = login.tokens.refresh_token.expose();
    let flipped = format!(
        "{}{}",
        &real[..real.len() - 1],
        if real.ends_with('A') { 'B' } else { 'A' }
    );
    let huge = "tdr_".to_owned() + &"A".repeat(100_000);
    for bad in [
        "",
        "tdr_",
        "not-a-token",
        &huge,
        &flipped,
        &login.tokens.access_token,
    ] {
        let refreshed = f.service.refresh(bad, None).await;
        assert!(
            matches!(refreshed, Err(Error::RefreshTokenInvalid)),
            "{bad:.20}: {refreshed:?}"
        );
    }
}

#[tokio::test]
async fn rule_r_idle_timeout_expires_the_refresh_token() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    f.advance(TimeDelta::days(30));
    let refreshed = f
        .service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await;
    assert!(matches!(refreshed, Err(Error::RefreshTokenExpired)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule_r_concurrent_refreshes_yield_exactly_one_successor() {
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let token = login.tokens.refresh_token.expose().to_owned();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (service, token) = (f.service.clone(), token.clone());
            tokio::spawn(async move { service.refresh(&token, None).await })
        })
        .collect();
    let mut successors = std::collections::HashSet::new();
    for task in tasks {
        successors.insert(
            task.await
                .unwrap()
                .unwrap()
                .refresh_token
                .expose()
                .to_owned(),
        );
    }
    assert_eq!(successors.len(), 1);
    assert_eq!(
        f.tokens.len(),
        2,
        "the consumed token and one live successor"
    );
}

#[tokio::test]
async fn refresh_tokens_a_forged_token_learns_nothing_of_the_device() {
    use trusted_devices_core::{RefreshToken, SeededRandom};
    let f = Fixture::defaults();
    let login = f.login("alice").await;
    let forged = RefreshToken::generate(login.device.id, &SeededRandom::new(4242));
    let live = f.service.refresh(forged.expose(), None).await;
    assert!(matches!(live, Err(Error::RefreshTokenInvalid)), "{live:?}");
    // The device's session ends (idle timeout) but cleanup has not run yet.
    f.advance(TimeDelta::days(31));
    let ended = f.service.refresh(forged.expose(), None).await;
    assert!(
        matches!(ended, Err(Error::RefreshTokenInvalid)),
        "a forged token is told nothing of the ended session: {ended:?}"
    );
    let real = f
        .service
        .refresh(login.tokens.refresh_token.expose(), None)
        .await;
    assert!(
        matches!(real, Err(Error::RefreshTokenExpired)),
        "the real token is told: {real:?}"
    );
}

#[tokio::test]
async fn refresh_tokens_the_sealed_successor_is_forgotten_after_the_grace() {
    let f = Fixture::defaults(); // grace 10 s
    let login = f.login("alice").await;
    let first = login.tokens.refresh_token.clone();
    let second = f
        .service
        .refresh(first.expose(), None)
        .await
        .unwrap()
        .refresh_token;
    let sealed = |token: &trusted_devices_core::RefreshToken| {
        f.tokens
            .record(&token.hash())
            .and_then(|record| record.rotated)
            .map(|rotated| rotated.sealed_successor.is_some())
    };
    assert_eq!(sealed(&first), Some(true), "kept within the grace");
    f.advance(TimeDelta::seconds(11));
    let third = f
        .service
        .refresh(second.expose(), None)
        .await
        .unwrap()
        .refresh_token;
    assert_eq!(
        sealed(&first),
        Some(false),
        "the device's next rotation forgets seals past the grace"
    );
    assert_eq!(
        sealed(&second),
        Some(true),
        "the newest is still in its grace"
    );
    f.advance(TimeDelta::seconds(11));
    let report = f
        .service
        .cleanup(f.now(), std::num::NonZeroU32::new(10).unwrap())
        .await
        .unwrap();
    assert_eq!(report.seals, 1);
    assert_eq!(sealed(&second), Some(false), "cleanup forgets the rest");
    assert!(f.tokens.record(&third.hash()).is_some());
    let replay = f.service.refresh(first.expose(), None).await;
    assert!(
        matches!(replay, Err(Error::RefreshTokenReused)),
        "reuse detection still works without the seal: {replay:?}"
    );
}
