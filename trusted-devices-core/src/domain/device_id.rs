use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InputError;
use crate::random::{self, RandomSource};

/// A device's identifier: a UUID v7, so ids sort by creation time and index well.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(Uuid);

impl DeviceId {
    /// A new v7 id for a device created at `now`, its random bits drawn from `random`.
    #[must_use]
    pub fn generate(now: DateTime<Utc>, random: &dyn RandomSource) -> Self {
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let entropy: [u8; 10] = random::bytes(random);
        Self(uuid::Builder::from_unix_timestamp_millis(millis, &entropy).into_uuid())
    }

    /// Wraps a stored UUID.
    #[must_use]
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    #[must_use]
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The 16 bytes of the UUID.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// The hyphenated form only, the one this library writes, from bytes that need not
    /// be checked as UTF-8 first (a token's claims are read as bytes).
    pub(crate) fn from_ascii(text: &[u8]) -> Option<Self> {
        if text.len() != 36 {
            return None;
        }
        Uuid::try_parse_ascii(text).ok().map(Self)
    }
}

impl FromStr for DeviceId {
    type Err = InputError;

    /// Parses the hyphenated form only, the one this library writes.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_ascii(text.as_bytes()).ok_or(InputError::Malformed { field: "device_id" })
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.0)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}
