//! Demo users with argon2-hashed passwords. The library itself never stores passwords.

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::settings::SettingError;

/// The demo accounts, passwords kept only as argon2 hashes.
pub struct DemoUsers {
    hashes: HashMap<String, String>,
    /// Checked for unknown names, so that a wrong name costs the same time as a wrong
    /// password and the two cannot be told apart.
    decoy: String,
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

fn hash(password: &str) -> Result<String, SettingError> {
    // A fresh random salt per hash, drawn by argon2 from the operating system.
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
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
        })
    }

    /// Whether `name` exists and `password` is hers. Takes the same time for an unknown
    /// name as for a wrong password. Slow on purpose: call it off the async executor.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let known = self.hashes.get(name);
        let hash = known.unwrap_or(&self.decoy);
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        matches && known.is_some()
    }
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
}
