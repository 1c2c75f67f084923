//! Key names. A user's keys share the hash tag `{u:…}`, a device's tokens `{d:…}`, so each
//! Lua script touches a single cluster slot.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use trusted_devices_core::{DeviceId, RefreshTokenHash, UserId};

/// Key names under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

/// A user id as it appears in keys: base64url, so that no `{`, `}` or `:` of the id can
/// change the hash tag or collide with another user's keys.
pub(crate) fn user_tag(user: &UserId) -> String {
    URL_SAFE_NO_PAD.encode(user.as_str())
}

/// The user id a [`user_tag`] stands for; `None` for a tag this crate did not write.
pub(crate) fn user_from_tag(tag: &str) -> Option<UserId> {
    let bytes = URL_SAFE_NO_PAD.decode(tag).ok()?;
    UserId::new(String::from_utf8(bytes).ok()?).ok()
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix every key starts with.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    fn user(&self, user: &UserId) -> String {
        format!("{}:{{u:{}}}", self.prefix, user_tag(user))
    }

    /// The user's devices by `created_at`.
    pub(crate) fn created(&self, user: &UserId) -> String {
        format!("{}:created", self.user(user))
    }

    /// The order of the user's history (rule H).
    pub(crate) fn audit_order(&self, user: &UserId) -> String {
        format!("{}:audit", self.user(user))
    }

    /// The entries of the user's history, by member.
    pub(crate) fn audit_entries(&self, user: &UserId) -> String {
        format!("{}:audit:entries", self.user(user))
    }

    /// Every history entry by time, for the retention sweep (a global key).
    pub(crate) fn audit_times(&self) -> String {
        format!("{}:audit:times", self.prefix)
    }

    /// The user's devices by `last_seen_at`.
    pub(crate) fn seen(&self, user: &UserId) -> String {
        format!("{}:seen", self.user(user))
    }

    /// The revocation feed's channel (not a key: pub/sub channels are global).
    pub(crate) fn revocations(&self) -> String {
        format!("{}:revocations", self.prefix)
    }

    /// The prefix of the user's device hashes; the device id completes it.
    pub(crate) fn device_prefix(&self, user: &UserId) -> String {
        format!("{}:dev:", self.user(user))
    }

    pub(crate) fn device(&self, user: &UserId, id: DeviceId) -> String {
        format!("{}{id}", self.device_prefix(user))
    }

    /// Which user a device belongs to, for lookups by id alone.
    pub(crate) fn owner(&self, id: DeviceId) -> String {
        format!("{}:{{d:{id}}}:owner", self.prefix)
    }

    /// The device's token hashes.
    pub(crate) fn token_set(&self, id: DeviceId) -> String {
        format!("{}:{{d:{id}}}:tokens", self.prefix)
    }

    /// The prefix of the device's token keys; the hash (hex) completes it.
    pub(crate) fn token_prefix(&self, id: DeviceId) -> String {
        format!("{}:{{d:{id}}}:rt:", self.prefix)
    }

    pub(crate) fn token(&self, id: DeviceId, hash: &RefreshTokenHash) -> String {
        format!("{}{}", self.token_prefix(id), hash.to_hex())
    }

    /// The sealed successor of a consumed token, kept only through the reuse grace.
    pub(crate) fn seal(&self, id: DeviceId, hash: &RefreshTokenHash) -> String {
        format!("{}:{{d:{id}}}:seal:{}", self.prefix, hash.to_hex())
    }

    /// The device's seals by the time their token was consumed (a sorted set), so that a
    /// rotation forgets the seals past the grace in the same script (rule R).
    pub(crate) fn seal_index(&self, id: DeviceId) -> String {
        format!("{}:{{d:{id}}}:seals", self.prefix)
    }

    /// Every device's deadline, for cleanup: members `user-tag:device-id`.
    pub(crate) fn device_deadlines(&self) -> String {
        format!("{}:device-deadlines", self.prefix)
    }

    /// Every token's expiry, for cleanup: members `device-id:hash-hex`.
    pub(crate) fn token_expiries(&self) -> String {
        format!("{}:token-expiries", self.prefix)
    }
}

/// A key of its own hash tag (one slot on a cluster) named by a digest of `parts`, for keys
/// made of client input (user names, proof ids) that must not become key names as they are:
/// `{prefix}:{kind}:{<first 16 bytes of SHA-256, hex>}`, the parts separated by a zero byte.
pub(crate) fn digest_key(prefix: &str, kind: &str, parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            digest.update([0]);
        }
        digest.update(part);
    }
    let tag: String = digest
        .finalize()
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{prefix}:{kind}:{{{tag}}}")
}
