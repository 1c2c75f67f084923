//! Demo users with argon2-hashed passwords. The library itself never stores passwords.

use std::collections::HashMap;

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::hashing_memory::HashingMemory;
use crate::settings::SettingError;

/// The demo accounts, passwords kept only as argon2 hashes.
pub struct DemoUsers {
    hashes: HashMap<String, PasswordHash>,
    /// Checked for unknown names, so that a wrong name costs the same time as a wrong
    /// password and the two cannot be told apart.
    decoy: PasswordHash,
    /// Working memory for checks, reused: as many buffers as checks ever ran at once.
    memory: HashingMemory,
}

impl std::fmt::Debug for DemoUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.hashes.keys().collect();
        names.sort();
        f.debug_struct("DemoUsers")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

fn hash(password: &str) -> Result<PasswordHash, SettingError> {
    // A fresh random salt per hash, drawn by argon2 from the operating system.
    Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|error| {
            SettingError::new("TD_DEMO_USERS", format!("cannot hash a password: {error}"))
        })
}

impl DemoUsers {
    /// Hashes each user's password.
    pub fn new(users: &[(String, String)]) -> Result<Self, SettingError> {
        let hashes = users
            .iter()
            .map(|(name, password)| Ok((name.clone(), hash(password)?)))
            .collect::<Result<_, SettingError>>()?;
        Ok(Self {
            hashes,
            decoy: hash("decoy password nobody has")?,
            memory: HashingMemory::for_params(&Params::default()),
        })
    }

    /// Whether `name` exists and `password` is hers. Takes the same time for an unknown
    /// name as for a wrong password. Slow on purpose: call it off the async executor, and
    /// bound how many run at once (the pool keeps one buffer per concurrent check).
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let known = self.hashes.get(name);
        let hash = known.unwrap_or(&self.decoy);
        let matches = self.matches(password, hash);
        matches && known.is_some()
    }

    /// Argon2 with the hash's own parameters, into a pooled buffer; a hash that needs
    /// more memory than the pool's buffers (or cannot be read) matches nothing.
    fn matches(&self, password: &str, hash: &PasswordHash) -> bool {
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
            return false;
        };
        let Ok(argon2) = argon2_of(hash) else {
            return false;
        };
        let mut computed = [0_u8; Output::MAX_LENGTH];
        let Some(computed) = computed.get_mut(..expected.len()) else {
            return false;
        };
        let mut memory = self.memory.borrow();
        let hashed = argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            computed,
            memory.blocks(),
        );
        // `Output`'s equality is constant-time.
        hashed.is_ok() && Output::new(computed).is_ok_and(|computed| computed == *expected)
    }
}

/// The argon2 instance a stored hash was made with.
fn argon2_of(hash: &PasswordHash) -> Result<Argon2<'static>, argon2::Error> {
    let algorithm = Algorithm::new(hash.algorithm.as_str())?;
    let version = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)?;
    let params = Params::try_from(hash).map_err(|_| argon2::Error::AlgorithmInvalid)?;
    Ok(Argon2::new(algorithm, version, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_password_of_a_known_user() {
        let users = DemoUsers::new(&[("alice".into(), "alice-password".into())]).unwrap();
        assert!(users.verify("alice", "alice-password"));
        assert!(!users.verify("alice", "wrong"));
        assert!(!users.verify("mallory", "alice-password"));
        assert!(
            !users.verify("mallory", "decoy password nobody has"),
            "the decoy opens nothing"
        );
        assert!(!format!("{users:?}").contains("argon2"), "no hash in Debug");
    }

    #[test]
    fn checks_one_after_another_reuse_one_buffer() {
        let users = DemoUsers::new(&[("alice".into(), "alice-password".into())]).unwrap();
        for _ in 0..3 {
            assert!(!users.verify("alice", "wrong"));
        }
        assert!(users.verify("alice", "alice-password"));
        assert_eq!(users.memory.free_buffers(), 1);
    }

    #[test]
    fn a_hash_needing_more_memory_than_the_pool_matches_nothing() {
        let bigger = Params::new(Params::DEFAULT_M_COST * 2, 1, 1, None).unwrap();
        let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, bigger)
            .hash_password(b"alice-password")
            .unwrap();
        let mut users = DemoUsers::new(&[("alice".into(), "x".into())]).unwrap();
        users.hashes.insert("alice".into(), stored);
        assert!(!users.verify("alice", "alice-password"));
    }
}
