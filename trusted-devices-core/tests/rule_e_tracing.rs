//! Rule E: every security event is also a `tracing` event (target `trusted_devices`) with
//! the user and device, never a token or secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use common::Fixture;
use trusted_devices_core::{Policy, TRACING_TARGET, UserId};

/// Everything the subscriber writes, kept for the assertions.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn rule_e_every_event_is_a_tracing_event_without_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let f = Fixture::new(
        Policy::builder()
            .max_devices(Some(2))
            .eviction(trusted_devices_core::Eviction::Reject),
    );
    let first = f.login("alice").await;
    let _second = f.login("alice").await;
    let refused = f
        .service
        .login(
            UserId::new("alice").unwrap(),
            trusted_devices_core::DeviceInfo::new(),
        )
        .await;
    assert!(refused.is_err(), "the third login is refused");
    f.service
        .refresh(first.tokens.refresh_token.expose(), None)
        .await
        .unwrap();
    f.advance(TimeDelta::seconds(11));
    let reuse = f
        .service
        .refresh(first.tokens.refresh_token.expose(), None)
        .await;
    assert!(reuse.is_err());

    let log = captured.text();
    for event in [
        "device_created",
        "login_rejected",
        "refresh_reuse_detected",
        "device_revoked",
    ] {
        let line = log
            .lines()
            .find(|line| line.contains(&format!("event=\"{event}\"")))
            .unwrap_or_else(|| panic!("no {event} line in:\n{log}"));
        assert!(line.contains(TRACING_TARGET), "{line}");
        assert!(line.contains("user=alice"), "{line}");
    }
    let device = first.device.id.to_string();
    assert!(
        log.lines()
            .any(|line| line.contains("refresh_reuse_detected") && line.contains(&device)),
        "the reuse names the device:\n{log}"
    );
    assert!(
        log.lines()
            .any(|line| line.contains("RefreshReuse") && line.contains("device_revoked")),
        "the revocation names its reason:\n{log}"
    );
    for secret in [
        first.tokens.refresh_token.expose(),
        first.tokens.access_token.as_str(),
    ] {
        assert!(!log.contains(secret), "a token reached the log");
    }
    // Nor any long piece of the refresh token without its prefix.
    let body = first
        .tokens
        .refresh_token
        .expose()
        .trim_start_matches("tdr_");
    assert!(!log.contains(&body[body.len() - 24..]));
}

/// Without a hook, the `tracing` event is the one reader of rule G's signals: they are
/// still computed against the user's other devices, never against an empty list.
#[tokio::test(flavor = "current_thread")]
async fn rule_e_the_traced_signals_compare_with_the_users_devices_without_a_hook() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let keys = common::keys();
    let service = trusted_devices_core::TrustedDevices::builder(keys).build();
    let from = || trusted_devices_core::DeviceInfo::new().ip("203.0.113.7".parse().unwrap());
    for _ in 0..2 {
        service
            .login(UserId::new("alice").unwrap(), from())
            .await
            .unwrap();
    }
    let log = captured.text();
    let created: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("device_created"))
        .collect();
    assert_eq!(created.len(), 2, "{log}");
    assert!(
        created[0].contains("new_ip"),
        "a first device is new: {}",
        created[0]
    );
    assert!(
        !created[1].contains("new_ip"),
        "the second login comes from a known address: {}",
        created[1]
    );
}
