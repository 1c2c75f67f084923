use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// An application's opaque user identifier: non-empty UTF-8 of at most 255 bytes.
///
/// ```
/// use trusted_devices_core::UserId;
/// assert!(UserId::new("alice").is_ok());
/// assert!(UserId::new("").is_err());
/// assert!(UserId::new("x".repeat(256)).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    /// The most bytes a user id may hold.
    pub const MAX_BYTES: usize = 255;

    /// Validates and wraps a user id.
    pub fn new(id: impl Into<String>) -> Result<Self, InputError> {
        let id = id.into();
        if id.is_empty() {
            return Err(InputError::Empty { field: "user_id" });
        }
        if id.len() > Self::MAX_BYTES {
            return Err(InputError::TooLong {
                field: "user_id",
                max: Self::MAX_BYTES,
                unit: "bytes",
            });
        }
        Ok(Self(id))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserId {
    type Error = InputError;
    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> Self {
        id.0
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({:?})", self.0)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
