//! Rule K's checks for any [`RateLimiter`]: the decisions of [`gcra`] step for step, looking
//! without taking, separate buckets, and exactly `count` admissions under concurrent takes
//! from several handles (servers) at once.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::rate_limit::{Admit, Bucket, RateKey, RateLimit, RateLimiter, Take, gcra};
use crate::testing::fixtures::base_time;
use crate::testing::{CONCURRENT_TASKS, join_all, pick, unique_user};

/// Runs every rule K check against `limiters` (several handles on one store stand for
/// several servers).
pub async fn run_rate_limiter_suite(limiters: &[Arc<dyn RateLimiter>]) {
    rule_k_decisions_follow_gcra(limiters).await;
    rule_k_peeking_takes_nothing(limiters).await;
    rule_k_buckets_are_separate(limiters).await;
    rule_k_concurrent_takes_admit_exactly_the_count(limiters).await;
}

/// A key no earlier run used (stores may outlive a test run).
fn fresh_key(bucket: Bucket) -> RateKey {
    RateKey::login_user(
        unique_user("rate").as_str(),
        Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    )
    .with_bucket(bucket)
}

fn limit(count: u32, seconds: u64) -> RateLimit {
    RateLimit::new(count, Duration::from_secs(seconds)).expect("a limit")
}

/// A sequence of takes and peeks at chosen instants: the store says what [`gcra`] says.
pub async fn rule_k_decisions_follow_gcra(limiters: &[Arc<dyn RateLimiter>]) {
    let key = fresh_key(Bucket::LoginUser);
    let three = limit(3, 3);
    let start = base_time();
    let steps: [(i64, Take); 10] = [
        (0, Take::One),
        (0, Take::One),
        (0, Take::One),
        (0, Take::One),
        (0, Take::Peek),
        (500, Take::One),
        (1_000, Take::One),
        (1_000, Take::One),
        (10_000, Take::One),
        (10_000, Take::Peek),
    ];
    let mut reference: Option<i64> = None;
    for (index, (after_ms, take)) in steps.into_iter().enumerate() {
        let now: DateTime<Utc> = start + TimeDelta::milliseconds(after_ms);
        let expected = gcra(reference, now, three, take);
        reference = expected.store.or(reference);
        let answered = pick(limiters, index)
            .check(&key, three, now, take)
            .await
            .expect("the limiter answers");
        assert_eq!(
            answered, expected.admit,
            "conformance (SPEC §4 K): step {index} ({take:?} at +{after_ms} ms) must decide as gcra does"
        );
    }
}

/// Peeks never empty a bucket.
pub async fn rule_k_peeking_takes_nothing(limiters: &[Arc<dyn RateLimiter>]) {
    let key = fresh_key(Bucket::RefreshDevice);
    let two = limit(2, 60);
    let now = base_time();
    for index in 0..10 {
        let peek = pick(limiters, index)
            .check(&key, two, now, Take::Peek)
            .await;
        assert_eq!(
            peek.ok(),
            Some(Admit::Yes),
            "conformance (SPEC §4 K): a peek admits while tokens are left"
        );
    }
    for index in 0..2 {
        let take = pick(limiters, index).check(&key, two, now, Take::One).await;
        assert_eq!(
            take.ok(),
            Some(Admit::Yes),
            "conformance (SPEC §4 K): peeks must not have taken tokens"
        );
    }
    let over = pick(limiters, 0).check(&key, two, now, Take::Peek).await;
    assert!(
        matches!(over, Ok(Admit::RetryAfter(_))),
        "conformance (SPEC §4 K): a peek at an empty bucket says when to retry"
    );
}

/// Emptying one bucket leaves the others full.
pub async fn rule_k_buckets_are_separate(limiters: &[Arc<dyn RateLimiter>]) {
    let one = limit(1, 60);
    let now = base_time();
    let first = fresh_key(Bucket::LoginIp);
    let same_subject_other_bucket = first.clone().with_bucket(Bucket::VerifyIp);
    let other_subject = fresh_key(Bucket::LoginIp);
    let limiter = pick(limiters, 0);
    assert_eq!(
        limiter.check(&first, one, now, Take::One).await.ok(),
        Some(Admit::Yes)
    );
    assert!(matches!(
        limiter.check(&first, one, now, Take::One).await,
        Ok(Admit::RetryAfter(_))
    ));
    for key in [same_subject_other_bucket, other_subject] {
        assert_eq!(
            limiter.check(&key, one, now, Take::One).await.ok(),
            Some(Admit::Yes),
            "conformance (SPEC §4 K): {key:?} shares no tokens with {first:?}"
        );
    }
}

/// Many takes at once, spread over every handle: exactly `count` are admitted.
pub async fn rule_k_concurrent_takes_admit_exactly_the_count(limiters: &[Arc<dyn RateLimiter>]) {
    let key = fresh_key(Bucket::LoginIp);
    let count = 7;
    let seven = limit(count, 3_600);
    let now = base_time();
    let tasks = (0..CONCURRENT_TASKS)
        .map(|index| {
            let limiter = pick(limiters, index);
            let key = key.clone();
            tokio::spawn(async move { limiter.check(&key, seven, now, Take::One).await })
        })
        .collect();
    let answers = join_all(tasks).await;
    let admitted = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(Admit::Yes)))
        .count();
    assert_eq!(
        admitted, count as usize,
        "conformance (SPEC §4 K): {CONCURRENT_TASKS} concurrent takes from a bucket of {count} must admit exactly {count}"
    );
}
