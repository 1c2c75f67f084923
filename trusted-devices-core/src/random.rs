//! The injected source of randomness for device ids, refresh tokens and JWT ids.

use std::sync::{Mutex, PoisonError};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A source of cryptographically secure random bytes.
///
/// The service draws every secret from it; tests inject [`SeededRandom`] to make ids and
/// tokens reproducible.
pub trait RandomSource: Send + Sync + std::fmt::Debug {
    /// Fills `buffer` with random bytes.
    fn fill(&self, buffer: &mut [u8]);
}

/// The default: the thread-local generator of `rand`, a ChaCha stream seeded and
/// periodically reseeded from the operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buffer: &mut [u8]) {
        rand::rng().fill_bytes(buffer);
    }
}

/// A deterministic generator from a seed, for tests only: its output is predictable.
#[derive(Debug)]
pub struct SeededRandom {
    rng: Mutex<StdRng>,
}

impl SeededRandom {
    /// A generator whose whole output follows from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, buffer: &mut [u8]) {
        self.rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill_bytes(buffer);
    }
}

/// Draws `N` random bytes.
pub(crate) fn bytes<const N: usize>(random: &dyn RandomSource) -> [u8; N] {
    let mut out = [0u8; N];
    random.fill(&mut out);
    out
}
