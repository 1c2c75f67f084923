//! Conformance of a [`TokenStore`]; each check is public to run alone: rule R's compare-and-swap, grace and expiry.

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{DeviceId, UserId};
use crate::random::OsRandom;
use crate::store::{RefreshRecord, RotateOutcome, Rotation, TokenStore};
use crate::testing::STORE_VS_RULE;
use crate::testing::fixtures::{base_time, expiry_base_time};
use crate::testing::{CONCURRENT_TASKS, join_all, pick, unique_user};
use crate::token::RefreshToken;

type Handles = [Arc<dyn TokenStore>];

/// Runs every token-store check against `handles` (several handles on the same storage
/// stand for several servers).
pub async fn run_token_store_suite(handles: &Handles) {
    rule_r_rotation_consumes_and_stores_the_successor(handles).await;
    rule_r_unknown_or_foreign_tokens_are_not_found(handles).await;
    rule_r_expiry_boundary(handles).await;
    rule_r_grace_replays_then_reuse_is_reported(handles).await;
    rule_r_seals_past_the_grace_are_forgotten(handles).await;
    rule_r_concurrent_rotations_yield_one_successor(handles).await;
    revoking_devices_removes_only_their_tokens(handles).await;
    revoking_many_devices_at_once_removes_every_token(handles).await;
    rule_c_expired_tokens_go_in_batches(handles).await;
    rule_c_cleanup_keeps_consumed_records_until_they_expire(handles).await;
}

/// A token of a fresh device, its record, and the means to rotate it.
struct Chain {
    device: DeviceId,
    user: UserId,
}

impl Chain {
    fn new(label: &str, now: DateTime<Utc>) -> Self {
        Self {
            device: DeviceId::generate(now, &OsRandom),
            user: unique_user(label),
        }
    }

    fn token(&self) -> RefreshToken {
        RefreshToken::generate(self.device, &OsRandom)
    }

    fn record(
        &self,
        token: &RefreshToken,
        issued_at: DateTime<Utc>,
        ttl: TimeDelta,
    ) -> RefreshRecord {
        RefreshRecord {
            hash: token.hash(),
            device_id: self.device,
            user_id: self.user.clone(),
            issued_at,
            expires_at: issued_at + ttl,
            rotated: None,
        }
    }

    fn rotation(
        &self,
        from: &RefreshToken,
        to: &RefreshToken,
        now: DateTime<Utc>,
        grace: TimeDelta,
    ) -> Rotation {
        Rotation {
            presented: from.hash(),
            device_id: self.device,
            successor: self.record(to, now, TimeDelta::days(30)),
            sealed_successor: from.seal(to),
            now,
            grace,
        }
    }
}

const GRACE: TimeDelta = TimeDelta::seconds(10);

/// Rule R: a live token rotates once; its successor is live and rotates in turn.
pub async fn rule_r_rotation_consumes_and_stores_the_successor(handles: &Handles) {
    let store = pick(handles, 0);
    let now = base_time();
    let chain = Chain::new("rotate", now);
    let (first, second, third) = (chain.token(), chain.token(), chain.token());
    store
        .insert(chain.record(&first, now, TimeDelta::days(30)))
        .await
        .unwrap();
    let outcome = store
        .rotate(chain.rotation(&first, &second, now, GRACE))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::Rotated,
        "rule R: a live token rotates ({STORE_VS_RULE})"
    );
    let later = now + TimeDelta::minutes(15);
    let outcome = pick(handles, 1)
        .rotate(chain.rotation(&second, &third, later, GRACE))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::Rotated,
        "rule R: the successor is stored live ({STORE_VS_RULE})"
    );
}

/// Rule R: an unknown token, or one presented for another device, is not found.
pub async fn rule_r_unknown_or_foreign_tokens_are_not_found(handles: &Handles) {
    let store = pick(handles, 0);
    let now = base_time();
    let chain = Chain::new("unknown", now);
    let (known, next) = (chain.token(), chain.token());
    let outcome = store
        .rotate(chain.rotation(&known, &next, now, GRACE))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::NotFound,
        "rule R: unknown token ({STORE_VS_RULE})"
    );
    store
        .insert(chain.record(&known, now, TimeDelta::days(1)))
        .await
        .unwrap();
    let mut foreign = chain.rotation(&known, &next, now, GRACE);
    foreign.device_id = DeviceId::generate(now, &OsRandom);
    assert_eq!(
        store.rotate(foreign).await.unwrap(),
        RotateOutcome::NotFound,
        "rule R: token of another device ({STORE_VS_RULE})"
    );
}

/// Rule R: a token is refused from the instant of its `expires_at` on, accepted just before.
pub async fn rule_r_expiry_boundary(handles: &Handles) {
    let store = pick(handles, 0);
    let now = base_time();
    let chain = Chain::new("expiry", now);
    let ttl = TimeDelta::hours(1);
    let (at_deadline, just_before, next) = (chain.token(), chain.token(), chain.token());
    store
        .insert(chain.record(&at_deadline, now, ttl))
        .await
        .unwrap();
    store
        .insert(chain.record(&just_before, now, ttl))
        .await
        .unwrap();
    let deadline = now + ttl;
    let outcome = store
        .rotate(chain.rotation(&at_deadline, &next, deadline, GRACE))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::Expired,
        "rule R: expired at its deadline ({STORE_VS_RULE})"
    );
    let before = deadline - TimeDelta::microseconds(1);
    let outcome = store
        .rotate(chain.rotation(&just_before, &next, before, GRACE))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::Rotated,
        "rule R: live one microsecond before ({STORE_VS_RULE})"
    );
}

/// Rule R: replays within the grace (inclusive) return the stored successor and change
/// nothing; after it, the reuse is reported with the device.
pub async fn rule_r_grace_replays_then_reuse_is_reported(handles: &Handles) {
    let store = pick(handles, 0);
    let now = base_time();
    let chain = Chain::new("grace", now);
    let (first, winner, loser) = (chain.token(), chain.token(), chain.token());
    store
        .insert(chain.record(&first, now, TimeDelta::days(1)))
        .await
        .unwrap();
    store
        .rotate(chain.rotation(&first, &winner, now, GRACE))
        .await
        .unwrap();
    let replay = pick(handles, 1)
        .rotate(chain.rotation(&first, &loser, now + GRACE, GRACE))
        .await
        .unwrap();
    let RotateOutcome::Replayed { sealed_successor } = replay else {
        panic!("rule R: a replay within the grace must return the successor, got {replay:?}");
    };
    assert_eq!(
        first.unseal(&sealed_successor),
        winner,
        "rule R: the same successor ({STORE_VS_RULE})"
    );
    let late = now + GRACE + TimeDelta::microseconds(1);
    let reuse = store
        .rotate(chain.rotation(&first, &loser, late, GRACE))
        .await
        .unwrap();
    assert_eq!(
        reuse,
        RotateOutcome::Reused {
            device_id: chain.device,
            user_id: chain.user.clone()
        },
        "rule R: reuse after the grace ({STORE_VS_RULE})"
    );
    let outcome = store
        .rotate(chain.rotation(&loser, &first, late, GRACE))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::NotFound,
        "rule R: a replay must not store its successor ({STORE_VS_RULE})"
    );
}

/// Rule R: a consumed token's sealed successor is kept only for the grace. Rotating the
/// device's next token past the grace forgets it in the same step, and so does cleanup's
/// `forget_sealed`. Observed by presenting the old token again with a grace stretched to a
/// day: a store that kept the seal hands the successor back (`Replayed`); one that forgot
/// it can only answer `Reused`.
pub async fn rule_r_seals_past_the_grace_are_forgotten(handles: &Handles) {
    let now = base_time();
    let a_day = TimeDelta::days(1);
    let past_grace = now + GRACE + TimeDelta::seconds(5);
    let kept_seal = |how: &str, outcome: &RotateOutcome| {
        assert!(
            matches!(outcome, RotateOutcome::Reused { .. }),
            "conformance (rule R, sealed successors): a token consumed {GRACE_TEXT} before \
             {how} still unsealed its successor ({outcome:?}). A seal is needed only within \
             the reuse grace; kept longer, a copy of the storage plus any old consumed token \
             unseals the chain up to the live token. The store must forget seals consumed \
             before `Rotation::forget_sealed_before()` in the rotation itself, and in \
             `forget_sealed`."
        );
    };

    // By the rotation of the device's next token.
    let chain = Chain::new("forget-by-rotation", now);
    let (first, second, third, probe) =
        (chain.token(), chain.token(), chain.token(), chain.token());
    let store = pick(handles, 0);
    store
        .insert(chain.record(&first, now, a_day))
        .await
        .unwrap();
    store
        .rotate(chain.rotation(&first, &second, now, GRACE))
        .await
        .unwrap();
    pick(handles, 1)
        .rotate(chain.rotation(&second, &third, past_grace, GRACE))
        .await
        .unwrap();
    let stretched = pick(handles, 2)
        .rotate(chain.rotation(&first, &probe, past_grace, a_day))
        .await
        .unwrap();
    kept_seal("the device's next rotation", &stretched);

    // By cleanup, for a store that forgets there (one whose seals expire by themselves, a
    // key TTL, answers 0 and relies on the rotation above and on its own clock).
    let chain = Chain::new("forget-by-cleanup", now);
    let (first, second, probe) = (chain.token(), chain.token(), chain.token());
    store
        .insert(chain.record(&first, now, a_day))
        .await
        .unwrap();
    store
        .rotate(chain.rotation(&first, &second, now, GRACE))
        .await
        .unwrap();
    let batch = NonZeroU32::new(1_000).unwrap_or(NonZeroU32::MIN);
    let forgotten = pick(handles, 1)
        .forget_sealed(past_grace - GRACE, batch)
        .await
        .unwrap();
    if forgotten > 0 {
        let stretched = pick(handles, 2)
            .rotate(chain.rotation(&first, &probe, past_grace, a_day))
            .await
            .unwrap();
        kept_seal("cleanup's forget_sealed", &stretched);
    }
}

/// How long [`GRACE`] is, in the checks' messages.
const GRACE_TEXT: &str = "more than the 10 s grace";

/// Rule R: 50 concurrent rotations of one token: exactly one rotates, the others replay
/// the winner's successor, and only that successor is live.
pub async fn rule_r_concurrent_rotations_yield_one_successor(handles: &Handles) {
    let now = base_time();
    let chain = Arc::new(Chain::new("race", now));
    let first = chain.token();
    pick(handles, 0)
        .insert(chain.record(&first, now, TimeDelta::days(1)))
        .await
        .unwrap();
    let candidates: Vec<RefreshToken> = (0..CONCURRENT_TASKS).map(|_| chain.token()).collect();
    let tasks = candidates
        .iter()
        .enumerate()
        .map(|(i, candidate)| {
            let (store, chain) = (pick(handles, i), Arc::clone(&chain));
            let rotation = chain.rotation(&first, candidate, now, GRACE);
            tokio::spawn(async move { store.rotate(rotation).await })
        })
        .collect();
    let outcomes: Vec<RotateOutcome> = join_all(tasks)
        .await
        .into_iter()
        .map(|o| o.unwrap())
        .collect();
    let winners: Vec<&RefreshToken> = candidates
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| **outcome == RotateOutcome::Rotated)
        .map(|(candidate, _)| candidate)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "conformance (rule R): {CONCURRENT_TASKS} refreshes of one token at once, from \
         several handles; {} of them rotated it (left). Exactly one may (right): the check \
         that the token is unconsumed and its consumption must be one compare-and-swap, or \
         two servers both issue a live successor.",
        winners.len()
    );
    let winner = winners[0];
    for outcome in &outcomes {
        match outcome {
            RotateOutcome::Rotated => {}
            RotateOutcome::Replayed { sealed_successor } => assert_eq!(
                &first.unseal(sealed_successor),
                winner,
                "conformance (rule R): a racer that lost must get the winner's successor back \
                 (Replayed with the winner's seal), so that racing tabs converge"
            ),
            other => panic!(
                "conformance (rule R): a racer within the grace must get Replayed with the \
                 winner's successor; the store answered {other:?}"
            ),
        }
    }
    let later = now + TimeDelta::seconds(1);
    let store = pick(handles, 0);
    for candidate in &candidates {
        let outcome = store
            .rotate(chain.rotation(candidate, &chain.token(), later, GRACE))
            .await
            .unwrap();
        let expected = if candidate == winner {
            RotateOutcome::Rotated
        } else {
            RotateOutcome::NotFound
        };
        assert_eq!(
            outcome, expected,
            "conformance (rule R): after the race only the winner's successor may be live; \
             a loser's successor answered otherwise ({STORE_VS_RULE})"
        );
    }
}

/// Revoking devices deletes their tokens, consumed ones included, and no one else's.
pub async fn revoking_devices_removes_only_their_tokens(handles: &Handles) {
    let store = pick(handles, 0);
    let now = base_time();
    let (doomed, other, bystander) = (
        Chain::new("revoke-a", now),
        Chain::new("revoke-b", now),
        Chain::new("revoke-c", now),
    );
    let (a1, a2, b1, c1, next) = (
        doomed.token(),
        doomed.token(),
        other.token(),
        bystander.token(),
        doomed.token(),
    );
    store
        .insert(doomed.record(&a1, now, TimeDelta::days(1)))
        .await
        .unwrap();
    store
        .rotate(doomed.rotation(&a1, &a2, now, GRACE))
        .await
        .unwrap();
    store
        .insert(other.record(&b1, now, TimeDelta::days(1)))
        .await
        .unwrap();
    store
        .insert(bystander.record(&c1, now, TimeDelta::days(1)))
        .await
        .unwrap();
    let removed = pick(handles, 1)
        .revoke_devices(&[doomed.device, other.device])
        .await
        .unwrap();
    assert_eq!(
        removed, 3,
        "rule R: revocation removes every token of the devices ({STORE_VS_RULE})"
    );
    for (chain, token) in [(&doomed, &a1), (&doomed, &a2), (&other, &b1)] {
        let outcome = store
            .rotate(chain.rotation(token, &next, now, GRACE))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            RotateOutcome::NotFound,
            "rule R: a revoked device's token lives on ({STORE_VS_RULE})"
        );
    }
    let outcome = store
        .rotate(bystander.rotation(&c1, &next, now, GRACE))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::Rotated,
        "rule R: another device's token was revoked ({STORE_VS_RULE})"
    );
}

/// Revoking more devices in one call than a store may name in one statement (1,201, so
/// that a store splitting the list meets a partial last part) removes every one of their
/// tokens, and the bystander's stays.
pub async fn revoking_many_devices_at_once_removes_every_token(handles: &Handles) {
    let store = pick(handles, 0);
    let now = base_time();
    let chains: Vec<Chain> = (0..1_201).map(|_| Chain::new("revoke-many", now)).collect();
    let bystander = Chain::new("revoke-many-bystander", now);
    for chain in chains.iter().chain([&bystander]) {
        store
            .insert(chain.record(&chain.token(), now, TimeDelta::days(1)))
            .await
            .unwrap();
    }
    let devices: Vec<DeviceId> = chains.iter().map(|chain| chain.device).collect();
    let removed = pick(handles, 1).revoke_devices(&devices).await.unwrap();
    assert_eq!(
        removed, 1_201,
        "rule R: revoking 1,201 devices at once removes each one's token ({STORE_VS_RULE})"
    );
    let again = store.revoke_devices(&devices).await.unwrap();
    assert_eq!(
        again, 0,
        "rule R: a token of a revoked device was left behind ({STORE_VS_RULE})"
    );
    let bystanders = store.revoke_devices(&[bystander.device]).await.unwrap();
    assert_eq!(
        bystanders, 1,
        "rule R: another device's token was revoked ({STORE_VS_RULE})"
    );
}

/// Rule C: records at or past `expires_at` go in batches; live ones stay.
pub async fn rule_c_expired_tokens_go_in_batches(handles: &Handles) {
    let store = pick(handles, 0);
    let now = expiry_base_time();
    let chain = Chain::new("token-cleanup", now);
    let expired: Vec<RefreshToken> = (0..5).map(|_| chain.token()).collect();
    for (i, token) in expired.iter().enumerate() {
        let ttl = TimeDelta::hours(1) - TimeDelta::seconds(i as i64);
        store
            .insert(chain.record(token, now - TimeDelta::hours(1), ttl))
            .await
            .unwrap();
    }
    let live = chain.token();
    store
        .insert(chain.record(&live, now, TimeDelta::microseconds(1)))
        .await
        .unwrap();
    let batch = NonZeroU32::new(2).unwrap();
    let mut rounds = 0;
    loop {
        let removed = pick(handles, rounds)
            .delete_expired(now, batch)
            .await
            .unwrap();
        assert!(removed <= 2, "rule C: a batch removed more than its size");
        rounds += 1;
        if removed < 2 {
            break;
        }
    }
    assert!(
        rounds >= 3,
        "rule C: five expired records need three batches of two"
    );
    let next = chain.token();
    for token in &expired {
        let outcome = store
            .rotate(chain.rotation(token, &next, now - TimeDelta::hours(2), GRACE))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            RotateOutcome::NotFound,
            "rule C: an expired record survived cleanup ({STORE_VS_RULE})"
        );
    }
    let outcome = store
        .rotate(chain.rotation(&live, &next, now, GRACE))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::Rotated,
        "rule C: a live record was removed ({STORE_VS_RULE})"
    );
    store.revoke_devices(&[chain.device]).await.unwrap();
}

/// Rules C and R: `delete_expired` removes only records past `expires_at`. A consumed record
/// that has not expired stays, or reuse detection would silently end at every cleanup: a
/// stolen, already-rotated token would answer "not found" instead of revoking its device.
pub async fn rule_c_cleanup_keeps_consumed_records_until_they_expire(handles: &Handles) {
    let store = pick(handles, 0);
    let now = expiry_base_time();
    let chain = Chain::new("cleanup-consumed", now);
    let (first, second, thief) = (chain.token(), chain.token(), chain.token());
    store
        .insert(chain.record(&first, now, TimeDelta::days(1)))
        .await
        .unwrap();
    let rotated = store
        .rotate(chain.rotation(&first, &second, now, GRACE))
        .await
        .unwrap();
    assert_eq!(
        rotated,
        RotateOutcome::Rotated,
        "rule R: a live token rotates ({STORE_VS_RULE})"
    );
    let later = now + TimeDelta::hours(1);
    let batch = NonZeroU32::new(100).unwrap();
    while pick(handles, 1).delete_expired(later, batch).await.unwrap() == u64::from(batch.get()) {}
    let replay = store
        .rotate(chain.rotation(&first, &thief, later, GRACE))
        .await
        .unwrap();
    assert_eq!(
        replay,
        RotateOutcome::Reused {
            device_id: chain.device,
            user_id: chain.user.clone()
        },
        "rule C / rule R: delete_expired removed a consumed record that had not expired, \
         so its reuse went undetected ({STORE_VS_RULE})"
    );
    store.revoke_devices(&[chain.device]).await.unwrap();
}
