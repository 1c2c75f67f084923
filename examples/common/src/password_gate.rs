//! Password checks with bounded concurrency (SPEC §4 K): each argon2 check takes about
//! 19 MiB and a core for a moment, so a login flood must not run them all at once.
//!
//! At most `concurrency` checks run; at most `queue` more logins wait for one; any further
//! login is refused at once with 429 `rate_limited` and `Retry-After`, before its name is
//! even looked at, so a refusal says nothing about the account and locks no one out.

use std::sync::Arc;

use tokio::sync::Semaphore;
use trusted_devices_core::Error;

use crate::users::DemoUsers;

/// Seconds a refused login is told to wait: one check takes a fraction of a second.
const RETRY_AFTER_SECONDS: u64 = 1;

/// The bound on password checks.
#[derive(Debug)]
pub struct PasswordGate {
    /// Logins admitted: running or waiting.
    admitted: Semaphore,
    /// Checks running.
    running: Semaphore,
}

impl PasswordGate {
    /// `concurrency` checks at once (at least one), and `queue` logins waiting.
    #[must_use]
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            admitted: Semaphore::new(concurrency.saturating_add(queue)),
            running: Semaphore::new(concurrency),
        }
    }

    /// Whether `name` exists and `password` is hers, checked off the async executor within
    /// the bound; `rate_limited` when the queue is full.
    pub async fn verify(
        &self,
        users: Arc<DemoUsers>,
        name: String,
        password: String,
    ) -> Result<bool, Error> {
        let full = || Error::RateLimited {
            retry_after: RETRY_AFTER_SECONDS,
        };
        let _admitted = self.admitted.try_acquire().map_err(|_| full())?;
        let _running = self.running.acquire().await.map_err(|_| full())?;
        let checked = tokio::task::spawn_blocking(move || users.verify(&name, &password)).await;
        Ok(checked.unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn login_floods_beyond_running_and_waiting_checks_are_refused() {
        let gate = Arc::new(PasswordGate::new(1, 1));
        // A check is running: it holds its admission and the one running place.
        let admitted = gate.admitted.try_acquire().unwrap();
        let running = gate.running.acquire().await.unwrap();
        let users = Arc::new(DemoUsers::new(&[("alice".into(), "pw".into())]).unwrap());
        // One login waits for the running check...
        let waiting = {
            let (gate, users) = (Arc::clone(&gate), Arc::clone(&users));
            tokio::spawn(async move { gate.verify(users, "alice".into(), "pw".into()).await })
        };
        while gate.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        // ...so the next one finds the queue full, whatever the name.
        for name in ["alice", "mallory"] {
            let refused = gate
                .verify(Arc::clone(&users), name.into(), "x".into())
                .await;
            assert!(
                matches!(refused, Err(Error::RateLimited { retry_after: 1 })),
                "{name}: {refused:?}"
            );
        }
        drop((running, admitted));
        assert!(matches!(waiting.await.unwrap(), Ok(true)));
    }
}
