//! SPEC §9's checks for any [`ProofReplayCache`]: a proof id is used once per key across
//! every handle (server), other keys and ids are separate, and of many concurrent first
//! uses of one id from several handles exactly one wins.

use std::sync::Arc;

use chrono::TimeDelta;

use crate::dpop::{ProofReplayCache, ProofUse, Thumbprint};
use crate::testing::fixtures::base_time;
use crate::testing::{CONCURRENT_TASKS, join_all, pick, unique_user};
use crate::token::b64_encode;

/// Runs every check against `caches` (several handles on one store stand for several
/// servers).
pub async fn run_proof_replay_suite(caches: &[Arc<dyn ProofReplayCache>]) {
    section_9_a_proof_id_is_used_once_across_servers(caches).await;
    section_9_concurrent_first_uses_admit_exactly_one(caches).await;
}

/// A thumbprint and a proof id no earlier run used (stores may outlive a test run).
fn fresh() -> (Thumbprint, String) {
    let name = unique_user("dpop");
    let mut bytes = [0u8; 32];
    for (slot, byte) in bytes.iter_mut().zip(name.as_str().bytes().rev()) {
        *slot = byte;
    }
    let jkt = Thumbprint::parse(&b64_encode(&bytes)).expect("32 bytes make a thumbprint");
    (jkt, name.as_str().to_owned())
}

/// SPEC §9: more proofs by one key than its `share` within a window are
/// [`ProofUse::OverShare`] (answered 429 `rate_limited`), never [`ProofUse::Replayed`] (a
/// theft report), and another key is unaffected. For a cache whose share is `share`
/// (`PROOF_SHARE_PER_KEY` for the memory and Redis caches); it records `share` proofs.
pub async fn section_9_a_key_beyond_its_share_is_over_share(
    caches: &[Arc<dyn ProofReplayCache>],
    share: usize,
) {
    let (jkt, jti) = fresh();
    let (other_key, _) = fresh();
    let now = base_time();
    let until = now + TimeDelta::seconds(61);
    for index in 0..share {
        let used = pick(caches, index)
            .first_use(&jkt, &format!("{jti}-{index}"), until, now)
            .await;
        assert_eq!(
            used.ok(),
            Some(ProofUse::First),
            "conformance (SPEC §9): proof {index} of a key within its share of {share} was \
             refused or failed"
        );
    }
    let beyond = pick(caches, share)
        .first_use(&jkt, &format!("{jti}-beyond"), until, now)
        .await;
    assert_eq!(
        beyond.ok(),
        Some(ProofUse::OverShare),
        "conformance (SPEC §9): a key past its share of {share} proofs must be told to slow \
         down (OverShare), not that its proof was replayed nor let through"
    );
    let other = pick(caches, 1)
        .first_use(&other_key, &jti, until, now)
        .await;
    assert_eq!(
        other.ok(),
        Some(ProofUse::First),
        "conformance (SPEC §9): another key's proof must not count against this key's share"
    );
}

/// Used once on one handle: refused on every other; another key or id is unaffected.
pub async fn section_9_a_proof_id_is_used_once_across_servers(
    caches: &[Arc<dyn ProofReplayCache>],
) {
    let (jkt, jti) = fresh();
    let (other_key, _) = fresh();
    let now = base_time();
    let until = now + TimeDelta::seconds(61);
    let first = pick(caches, 0).first_use(&jkt, &jti, until, now).await;
    assert_eq!(
        first.ok(),
        Some(ProofUse::First),
        "conformance (SPEC §9): the first use of a proof id was refused or failed"
    );
    for index in 0..caches.len().max(2) {
        let again = pick(caches, index).first_use(&jkt, &jti, until, now).await;
        assert_eq!(
            again.ok(),
            Some(ProofUse::Replayed),
            "conformance (SPEC §9): a proof id used once was accepted again on handle {index}: \
             a replayed proof must be refused on every server within its window"
        );
    }
    let other = pick(caches, 1)
        .first_use(&other_key, &jti, until, now)
        .await;
    assert_eq!(
        other.ok(),
        Some(ProofUse::First),
        "conformance (SPEC §9): the same id under another key is another proof"
    );
    let next = pick(caches, 1)
        .first_use(&jkt, &format!("{jti}-next"), until, now)
        .await;
    assert_eq!(
        next.ok(),
        Some(ProofUse::First),
        "conformance (SPEC §9): another id of the same key is another proof"
    );
}

/// Many servers see the same proof at once: exactly one may accept it.
pub async fn section_9_concurrent_first_uses_admit_exactly_one(
    caches: &[Arc<dyn ProofReplayCache>],
) {
    let (jkt, jti) = fresh();
    let now = base_time();
    let until = now + TimeDelta::seconds(61);
    let tasks = (0..CONCURRENT_TASKS)
        .map(|index| {
            let cache = pick(caches, index);
            let (jkt, jti) = (jkt.clone(), jti.clone());
            tokio::spawn(async move { cache.first_use(&jkt, &jti, until, now).await })
        })
        .collect();
    let answers = join_all(tasks).await;
    let accepted = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(ProofUse::First)))
        .count();
    let refused = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(ProofUse::Replayed)))
        .count();
    assert_eq!(
        (accepted, refused),
        (1, CONCURRENT_TASKS - 1),
        "conformance (SPEC §9): {CONCURRENT_TASKS} servers presented one proof at once; \
         the store accepted it {accepted} times and refused it {refused} times (the rest \
         failed): exactly one acceptance is required"
    );
}
