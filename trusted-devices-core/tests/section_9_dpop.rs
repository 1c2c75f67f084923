//! SPEC §9: DPoP-bound devices, through the service with a manual clock. A stolen token,
//! access or refresh, is useless without the device's key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::TimeDelta;
use common::Fixture;
use trusted_devices_core::LoginRequest;
use trusted_devices_core::Presented;
use trusted_devices_core::dpop::{DpopKey, DpopRequest, ProofError, ProofFor, PublicOrigin};
use trusted_devices_core::{
    DeviceInfo, DpopMode, Error, LoginOutcome, Policy, SeededRandom, Transport, UserId,
};

const LOGIN_URI: &str = "https://api.example.com/auth/login";
const ME_URI: &str = "https://api.example.com/me";
const REFRESH_URI: &str = "https://api.example.com/auth/refresh";

fn key(seed: u64) -> DpopKey {
    DpopKey::generate_es256(&SeededRandom::new(seed))
}

/// A proof by `key` for one request, made at the fixture's now with a fresh `jti`.
fn proof(f: &Fixture, key: &DpopKey, method: &str, uri: &str, token: Option<&str>) -> String {
    proof_with_nonce(f, key, method, uri, token, None)
}

fn proof_with_nonce(
    f: &Fixture,
    key: &DpopKey,
    method: &str,
    uri: &str,
    token: Option<&str>,
    nonce: Option<&str>,
) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let jti = NEXT
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .to_string();
    key.proof(&ProofFor {
        method,
        uri,
        issued_at: f.now().timestamp(),
        jti: &jti,
        access_token: token,
        nonce,
    })
}

/// The one origin the tests' server is addressed by.
static ORIGINS: std::sync::LazyLock<[PublicOrigin; 1]> =
    std::sync::LazyLock::new(|| [PublicOrigin::parse("https://api.example.com").unwrap()]);

fn request<'a>(proof: &'a str, method: &'a str, uri: &'a str) -> DpopRequest<'a> {
    let path = uri.strip_prefix("https://api.example.com").unwrap();
    DpopRequest {
        proof,
        method,
        origins: &*ORIGINS,
        path,
    }
}

async fn bound_login(f: &Fixture, key: &DpopKey) -> Result<LoginOutcome, Error> {
    login_with(&f.service, &proof(f, key, "POST", LOGIN_URI, None)).await
}

/// Alice's bearer login on `service` with this proof of `POST /auth/login`.
async fn login_with(
    service: &trusted_devices_core::TrustedDevices,
    proof: &str,
) -> Result<LoginOutcome, Error> {
    service
        .login(
            UserId::new("alice").unwrap(),
            LoginRequest::new(DeviceInfo::new())
                .transport(Transport::Bearer)
                .proof(Some(request(proof, "POST", LOGIN_URI))),
        )
        .await
}

fn refused(result: Result<impl std::fmt::Debug, Error>) -> ProofError {
    match result {
        Err(Error::DpopInvalid(reason)) => reason,
        other => panic!("expected dpop_invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn section_9_a_login_with_a_proof_binds_the_device_to_its_key() {
    let f = Fixture::defaults();
    let phone = key(1);
    let login = bound_login(&f, &phone).await.unwrap();
    assert_eq!(login.device.dpop_jkt, Some(phone.thumbprint()));
    assert_eq!(login.tokens.token_type, "DPoP");
    let claims = trusted_devices_core::AccessTokenCodec::new(common::keys())
        .verify(&login.tokens.access_token, f.now(), TimeDelta::zero())
        .unwrap();
    assert_eq!(claims.cnf.unwrap().jkt, phone.thumbprint().as_str());
    let stored = f.devices_get(login.device.id).await;
    assert_eq!(
        stored.dpop_jkt,
        Some(phone.thumbprint()),
        "stored with the device"
    );

    let plain = f.login("bob").await;
    assert_eq!(plain.tokens.token_type, "Bearer");
    assert_eq!(plain.device.dpop_jkt, None);
}

#[tokio::test]
async fn section_9_a_bound_token_needs_a_proof_by_the_devices_key_for_each_request() {
    let f = Fixture::defaults();
    let phone = key(1);
    let login = bound_login(&f, &phone).await.unwrap();
    let token = login.tokens.access_token.as_str();

    let as_bearer = f.service.authenticate(token, None).await;
    assert_eq!(refused(as_bearer), ProofError::BoundTokenAsBearer);

    let good = proof(&f, &phone, "GET", ME_URI, Some(token));
    let acting = f
        .service
        .authenticate(
            Presented::dpop(token, Some(request(&good, "GET", ME_URI))),
            None,
        )
        .await
        .unwrap();
    assert_eq!(acting.device.id, login.device.id);

    let replayed = f
        .service
        .authenticate(
            Presented::dpop(token, Some(request(&good, "GET", ME_URI))),
            None,
        )
        .await;
    assert_eq!(refused(replayed), ProofError::Replayed);

    let thief = proof(&f, &key(2), "GET", ME_URI, Some(token));
    let stolen = f
        .service
        .authenticate(
            Presented::dpop(token, Some(request(&thief, "GET", ME_URI))),
            None,
        )
        .await;
    assert_eq!(refused(stolen), ProofError::WrongKey);

    let without_ath = proof(&f, &phone, "GET", ME_URI, None);
    let no_ath = f
        .service
        .authenticate(
            Presented::dpop(token, Some(request(&without_ath, "GET", ME_URI))),
            None,
        )
        .await;
    assert_eq!(refused(no_ath), ProofError::WrongAccessToken);

    let missing = f
        .service
        .authenticate(Presented::dpop(token, None), None)
        .await;
    assert_eq!(refused(missing), ProofError::Missing);

    let elsewhere = proof(&f, &phone, "GET", ME_URI, Some(token));
    let other_route = f
        .service
        .authenticate(
            Presented::dpop(token, Some(request(&elsewhere, "DELETE", ME_URI))),
            None,
        )
        .await;
    assert_eq!(refused(other_route), ProofError::WrongMethod);

    let plain = f.login("bob").await;
    let unbound = proof(&f, &phone, "GET", ME_URI, Some(&plain.tokens.access_token));
    let scheme_without_key = f
        .service
        .authenticate(
            Presented::dpop(
                &plain.tokens.access_token,
                Some(request(&unbound, "GET", ME_URI)),
            ),
            None,
        )
        .await;
    assert_eq!(refused(scheme_without_key), ProofError::NotBound);
}

#[tokio::test]
async fn section_9_a_refresh_without_the_key_consumes_revokes_and_reports_nothing() {
    let f = Fixture::defaults();
    let phone = key(1);
    let login = bound_login(&f, &phone).await.unwrap();
    let refresh_token = login.tokens.refresh_token.expose().to_owned();
    f.hook.take();

    // A thief with the refresh token alone, twice (rule R's reuse would revoke on the
    // second try if the first had consumed anything).
    for _ in 0..2 {
        let stolen = f
            .service
            .refresh(
                Presented::new(&refresh_token, Transport::Bearer).with_proof(None),
                None,
            )
            .await;
        assert_eq!(refused(stolen), ProofError::Missing);
        let thief = proof(&f, &key(2), "POST", REFRESH_URI, None);
        let wrong_key = f
            .service
            .refresh(
                Presented::new(&refresh_token, Transport::Bearer).with_proof(Some(request(
                    &thief,
                    "POST",
                    REFRESH_URI,
                ))),
                None,
            )
            .await;
        assert_eq!(refused(wrong_key), ProofError::WrongKey);
    }
    assert!(f.hook.take().is_empty(), "nothing reported");

    // The owner's refresh, with the key, still works with the same token.
    let owners = proof(&f, &phone, "POST", REFRESH_URI, None);
    let pair = f
        .service
        .refresh(
            Presented::new(&refresh_token, Transport::Bearer).with_proof(Some(request(
                &owners,
                "POST",
                REFRESH_URI,
            ))),
            None,
        )
        .await
        .unwrap();
    assert_eq!(pair.token_type, "DPoP");
}

#[tokio::test]
async fn section_9_dpop_required_refuses_a_login_without_a_proof_and_off_ignores_one() {
    let required = Fixture::new(Policy::builder().dpop(DpopMode::Required));
    let without = required
        .service
        .login(UserId::new("alice").unwrap(), DeviceInfo::new())
        .await;
    assert_eq!(refused(without), ProofError::Missing);
    assert!(bound_login(&required, &key(1)).await.is_ok());

    let off = Fixture::new(Policy::builder().dpop(DpopMode::Off));
    let ignored = bound_login(&off, &key(1)).await.unwrap();
    assert_eq!(ignored.device.dpop_jkt, None);
    assert_eq!(ignored.tokens.token_type, "Bearer");
}

#[tokio::test]
async fn section_9_proofs_out_of_their_window_are_refused() {
    let f = Fixture::defaults();
    let phone = key(1);
    let stale = proof(&f, &phone, "POST", LOGIN_URI, None);
    f.advance(TimeDelta::seconds(61));
    let login = login_with(&f.service, &stale).await;
    assert_eq!(refused(login), ProofError::OutOfWindow);
}

#[tokio::test]
async fn section_9_with_server_nonces_a_proof_must_carry_a_fresh_one() {
    let f = Fixture::new(Policy::builder().dpop_nonce(true));
    let phone = key(1);
    let first = bound_login(&f, &phone).await;
    let ProofError::UseNonce { nonce } = refused(first) else {
        panic!("a nonce is asked for");
    };
    let with_nonce = proof_with_nonce(&f, &phone, "POST", LOGIN_URI, None, Some(&nonce));
    let login = login_with(&f.service, &with_nonce).await.unwrap();
    assert_eq!(login.device.dpop_jkt, Some(phone.thumbprint()));
    assert!(f.service.dpop_nonce().is_some());

    f.advance(TimeDelta::seconds(61));
    let stale = proof_with_nonce(&f, &phone, "POST", LOGIN_URI, None, Some(&nonce));
    let late = login_with(&f.service, &stale).await;
    assert!(matches!(refused(late), ProofError::UseNonce { .. }));
}

#[tokio::test]
async fn section_9_verify_reports_the_binding() {
    let f = Fixture::defaults();
    let phone = key(1);
    let login = bound_login(&f, &phone).await.unwrap();
    let verified = f
        .service
        .verify(&login.tokens.access_token, None)
        .await
        .unwrap();
    assert_eq!(verified.device.dpop_jkt, Some(phone.thumbprint()));
}

#[tokio::test]
async fn section_9_the_memory_replay_cache_passes_the_public_checks() {
    use std::sync::Arc;
    use trusted_devices_core::dpop::{
        MemoryProofReplayCache, PROOF_SHARE_PER_KEY, ProofReplayCache,
    };
    use trusted_devices_core::testing::{
        run_proof_replay_suite, section_9_a_key_beyond_its_share_is_over_share,
    };
    let shared: Arc<dyn ProofReplayCache> = Arc::new(MemoryProofReplayCache::default());
    let handles = [shared.clone(), shared];
    run_proof_replay_suite(&handles).await;
    section_9_a_key_beyond_its_share_is_over_share(&handles, PROOF_SHARE_PER_KEY).await;
}

fn proof_refusals(f: &Fixture) -> Vec<&'static str> {
    f.hook
        .take()
        .into_iter()
        .filter_map(|event| match event {
            trusted_devices_core::Event::ProofRefused { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn section_9_rule_h_a_stolen_bound_token_is_reported_once_per_window() {
    let f = Fixture::defaults();
    let phone = key(1);
    let login = bound_login(&f, &phone).await.unwrap();
    let token = login.tokens.access_token.as_str();
    f.hook.take();
    for _ in 0..5 {
        let stolen = f.service.authenticate(token, None).await;
        assert_eq!(refused(stolen), ProofError::BoundTokenAsBearer);
    }
    assert_eq!(
        proof_refusals(&f),
        ["bound_token_as_bearer"],
        "five refusals within the window are one report"
    );
    f.advance(TimeDelta::seconds(61));
    let thief = proof(&f, &key(2), "GET", ME_URI, Some(token));
    let wrong_key = f
        .service
        .authenticate(
            Presented::dpop(token, Some(request(&thief, "GET", ME_URI))),
            None,
        )
        .await;
    assert_eq!(refused(wrong_key), ProofError::WrongKey);
    assert_eq!(
        proof_refusals(&f),
        ["wrong_key"],
        "a new window, a new report"
    );
}

#[tokio::test]
async fn section_9_rule_h_the_refused_proof_is_in_the_devices_history() {
    use std::sync::Arc;
    use trusted_devices_core::audit::{AuditKind, AuditLog, MemoryAuditLog};
    let history = Arc::new(MemoryAuditLog::new());
    let service = trusted_devices_core::TrustedDevices::builder(common::keys())
        .audit_log(history.clone())
        .build();
    let phone = DpopKey::generate_ed25519(&SeededRandom::new(3));
    let now = chrono::Utc::now().timestamp();
    let login_proof = phone.proof(&ProofFor {
        method: "POST",
        uri: LOGIN_URI,
        issued_at: now,
        jti: "login",
        access_token: None,
        nonce: None,
    });
    let login = login_with(&service, &login_proof).await.unwrap();
    let stolen = service.authenticate(&login.tokens.access_token, None).await;
    assert!(stolen.is_err());
    let page = history
        .page(
            &login.device.user_id,
            None,
            std::num::NonZeroU32::new(10).unwrap(),
        )
        .await
        .unwrap();
    let refused: Vec<_> = page
        .iter()
        .filter(|entry| entry.kind == AuditKind::ProofRefused)
        .collect();
    assert_eq!(refused.len(), 1, "{page:?}");
    assert_eq!(refused[0].target, Some(login.device.id));
    assert_eq!(refused[0].detail.as_deref(), Some("bound_token_as_bearer"));
}
