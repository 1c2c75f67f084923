//! SPEC §9 v4: the order of a proof's checks and the replay cache's bounds, through the
//! service with a manual clock. Each test reproduces a finding of the DPoP review.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::TimeDelta;
use common::RecordingHook;
use trusted_devices_core::LoginRequest;
use trusted_devices_core::Presented;
use trusted_devices_core::audit::{AuditKind, AuditLog, MemoryAuditLog};
use trusted_devices_core::dpop::{
    DpopKey, DpopRequest, MemoryProofReplayCache, ProofError, ProofFor, PublicOrigin,
};
use trusted_devices_core::{
    DeviceInfo, DpopMode, Error, Event, LoginOutcome, ManualClock, Policy, PolicyBuilder,
    SeededRandom, Transport, TrustedDevices, UserId,
};

const ORIGIN: &str = "https://api.example.com";

/// A service with a replay cache of `per_key` ids per key and `capacity` in all, a
/// history and a recording hook.
struct Setup {
    service: TrustedDevices,
    clock: Arc<ManualClock>,
    cache: Arc<MemoryProofReplayCache>,
    history: Arc<MemoryAuditLog>,
    hook: Arc<RecordingHook>,
    origins: [PublicOrigin; 1],
}

impl Setup {
    fn new(policy: PolicyBuilder, per_key: usize, capacity: usize) -> Self {
        let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
        let cache = Arc::new(MemoryProofReplayCache::new(per_key, capacity));
        let history = Arc::new(MemoryAuditLog::new());
        let hook = Arc::new(RecordingHook::default());
        let service = TrustedDevices::builder(common::keys())
            .policy(policy.build().unwrap())
            .clock(clock.clone())
            .random(Arc::new(SeededRandom::new(7)))
            .proof_replay_cache(cache.clone())
            .audit_log(history.clone())
            .hook(hook.clone())
            .build();
        Self {
            service,
            clock,
            cache,
            history,
            hook,
            origins: [PublicOrigin::parse(ORIGIN).unwrap()],
        }
    }

    /// A proof by `key` for `method` `path`, now, with a fresh `jti`.
    fn proof(
        &self,
        key: &DpopKey,
        method: &str,
        path: &str,
        token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let jti = NEXT.fetch_add(1, Ordering::Relaxed).to_string();
        key.proof(&ProofFor {
            method,
            uri: &format!("{ORIGIN}{path}"),
            issued_at: trusted_devices_core::Clock::now(&*self.clock).timestamp(),
            jti: &jti,
            access_token: token,
            nonce,
        })
    }

    fn request<'a>(&'a self, proof: &'a str, method: &'a str, path: &'a str) -> DpopRequest<'a> {
        DpopRequest {
            proof,
            method,
            origins: &self.origins,
            path,
        }
    }

    /// `user`'s login bound to `key`, the documented way (attempt, proof, password).
    async fn bound_login(&self, user: &str, key: &DpopKey) -> Result<LoginOutcome, Error> {
        self.bound_login_with_nonce(user, key, None).await
    }

    /// As [`bound_login`](Self::bound_login), the proof carrying a server nonce.
    async fn bound_login_with_nonce(
        &self,
        user: &str,
        key: &DpopKey,
        nonce: Option<&str>,
    ) -> Result<LoginOutcome, Error> {
        let proof = self.proof(key, "POST", "/auth/login", None, nonce);
        self.service
            .attempt_login(user, None)
            .await?
            .with_proof(Some(self.request(&proof, "POST", "/auth/login")))?
            .login(DeviceInfo::new())
            .await
    }

    async fn me(&self, token: &str, key: &DpopKey) -> Result<(), Error> {
        let proof = self.proof(key, "GET", "/me", Some(token), None);
        self.service
            .authenticate(
                Presented::dpop(token, Some(self.request(&proof, "GET", "/me"))),
                None,
            )
            .await
            .map(|_| ())
    }

    async fn history_kinds(&self, user: &str) -> Vec<(AuditKind, Option<String>)> {
        let page = self
            .history
            .page(
                &UserId::new(user).unwrap(),
                None,
                NonZeroU32::new(50).unwrap(),
            )
            .await
            .unwrap();
        page.iter()
            .map(|entry| (entry.kind, entry.detail.clone()))
            .collect()
    }
}

fn ed25519(seed: u64) -> DpopKey {
    DpopKey::generate_ed25519(&SeededRandom::new(seed))
}

fn refusal(result: Result<impl std::fmt::Debug, Error>) -> ProofError {
    match result {
        Err(Error::DpopInvalid(reason)) => reason,
        other => panic!("expected dpop_invalid, got {other:?}"),
    }
}

/// The high finding: one account's proofs by fresh keys filled the replay cache, and then
/// every DPoP request and login answered 503. The key is now compared with the binding
/// first, so such proofs never enter the cache.
#[tokio::test]
async fn section_9_proofs_by_other_keys_never_fill_the_replay_cache() {
    let capacity = 20;
    let s = Setup::new(Policy::builder(), 1_000, capacity);
    let alice = ed25519(1);
    let alice_login = s.bound_login("alice", &alice).await.unwrap();
    let mallory = s.bound_login("mallory", &ed25519(2)).await.unwrap();
    let token = &mallory.tokens.access_token;
    for seed in 0..(5 * capacity as u64) {
        let fresh = ed25519(1_000 + seed);
        assert_eq!(refusal(s.me(token, &fresh).await), ProofError::WrongKey);
    }
    assert_eq!(
        s.cache.len(),
        2,
        "only the two logins' proofs were recorded"
    );
    s.me(&alice_login.tokens.access_token, &alice)
        .await
        .expect("another user's DPoP request still passes");
    let carol = s.bound_login("carol", &ed25519(3)).await;
    assert!(carol.is_ok(), "another user's DPoP login still passes");
}

/// The capacity finding: a busy key was told "replayed" and its owner got a false theft
/// report. Beyond its share it is now 429 `rate_limited`, reported nowhere.
#[tokio::test]
async fn section_9_a_key_beyond_its_share_is_rate_limited_never_reported_as_theft() {
    let s = Setup::new(Policy::builder(), 3, 1_000);
    let phone = ed25519(1);
    let login = s.bound_login("alice", &phone).await.unwrap();
    let token = &login.tokens.access_token;
    s.me(token, &phone).await.unwrap();
    s.me(token, &phone).await.unwrap();
    let busy = s.me(token, &phone).await;
    assert!(
        matches!(busy, Err(Error::RateLimited { .. })),
        "the key's share: {busy:?}"
    );
    let reported = s
        .hook
        .take()
        .into_iter()
        .any(|event| matches!(event, Event::ProofRefused { .. }));
    assert!(!reported, "a busy client is not a thief");
    s.clock.advance(TimeDelta::seconds(62));
    s.me(token, &phone)
        .await
        .expect("the window over, the key's share is back");
}

/// The low finding: with nonces on, a thief probing a stolen bound token with his own key
/// was asked for a nonce and never reported. The key now comes before the nonce.
#[tokio::test]
async fn section_9_with_nonces_a_stolen_token_with_another_key_is_reported_first() {
    let s = Setup::new(Policy::builder().dpop_nonce(true), 1_000, 1_000);
    let phone = ed25519(1);
    let nonce = s.service.dpop_nonce().unwrap();
    let login = s
        .bound_login_with_nonce("alice", &phone, Some(&nonce))
        .await
        .unwrap();
    s.hook.take();
    let thief = ed25519(9);
    let stolen = s.me(&login.tokens.access_token, &thief).await;
    assert_eq!(refusal(stolen), ProofError::WrongKey);
    let reported = s.hook.take().into_iter().any(|event| {
        matches!(
            event,
            Event::ProofRefused {
                reason: "wrong_key",
                ..
            }
        )
    });
    assert!(reported, "the stolen token's use is reported");
}

/// The medium finding: a login's proof was checked after the password, so a right
/// password with a bad proof answered otherwise than a wrong one. The proof's own checks
/// and its nonce now come before the password (`with_proof`), with nothing filed.
#[tokio::test]
async fn section_9_a_logins_proof_is_checked_before_the_password() {
    let s = Setup::new(Policy::builder().dpop(DpopMode::Required), 1_000, 1_000);
    let phone = ed25519(1);
    let attempt = s.service.attempt_login("alice", None).await.unwrap();
    assert_eq!(
        refusal(attempt.with_proof(None)),
        ProofError::Missing,
        "dpop = required, refused before any password is looked at"
    );
    let wrong_path = s.proof(&phone, "POST", "/elsewhere", None, None);
    let attempt = s.service.attempt_login("alice", None).await.unwrap();
    let checked = attempt.with_proof(Some(s.request(&wrong_path, "POST", "/auth/login")));
    assert_eq!(refusal(checked), ProofError::WrongUri);
    assert!(
        s.history_kinds("alice").await.is_empty(),
        "nothing is filed before the password"
    );
}

/// The other half: a right password whose login is then refused for its proof (a replay)
/// is a `LoginRejected` under the user, in the history.
#[tokio::test]
async fn section_9_a_right_password_refused_for_its_proof_is_filed() {
    let s = Setup::new(Policy::builder(), 1_000, 1_000);
    let phone = ed25519(1);
    let proof = s.proof(&phone, "POST", "/auth/login", None, None);
    let login = |proof: String| {
        let s = &s;
        async move {
            s.service
                .attempt_login("alice", None)
                .await?
                .with_proof(Some(s.request(&proof, "POST", "/auth/login")))?
                .login(LoginRequest::new(DeviceInfo::new()).transport(Transport::Bearer))
                .await
        }
    };
    login(proof.clone()).await.unwrap();
    let replayed = login(proof).await;
    assert_eq!(refusal(replayed), ProofError::Replayed);
    let history = s.history_kinds("alice").await;
    assert!(
        history.contains(&(
            AuditKind::LoginRejected,
            Some("dpop_proof_refused".to_owned())
        )),
        "{history:?}"
    );
}

/// RFC 9449 section 8.2: a successful answer carries the next nonce once the client's is
/// past half its life, and none before.
#[tokio::test]
async fn section_9_a_fresh_nonce_comes_with_a_success_when_due() {
    let s = Setup::new(Policy::builder().dpop_nonce(true), 1_000, 1_000);
    let phone = ed25519(1);
    let nonce = s.service.dpop_nonce().unwrap();
    let login = s
        .bound_login_with_nonce("alice", &phone, Some(&nonce))
        .await
        .unwrap();
    let token = &login.tokens.access_token;
    let acting = |nonce: String| {
        let (s, phone) = (&s, &phone);
        async move {
            let proof = s.proof(phone, "GET", "/me", Some(token), Some(&nonce));
            s.service
                .authenticate(
                    Presented::dpop(token, Some(s.request(&proof, "GET", "/me"))),
                    None,
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(acting(nonce.clone()).await.dpop_nonce, None, "still young");
    s.clock.advance(TimeDelta::seconds(45));
    let next = acting(nonce).await.dpop_nonce;
    let next = next.expect("past half its life, the next nonce comes with the answer");
    s.clock.advance(TimeDelta::seconds(30));
    assert_eq!(acting(next).await.dpop_nonce, None, "the new one is young");
}
