use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// A device's display name: trimmed, non-empty, at most 100 characters, no control
/// characters.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceName(String);

impl DeviceName {
    /// The most characters (Unicode scalar values) a name may hold.
    pub const MAX_CHARS: usize = 100;

    /// Validates a name given by a client (a rename): trimmed, then refused when empty, too
    /// long or holding control characters.
    pub fn new(name: &str) -> Result<Self, InputError> {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(InputError::Empty { field: "name" });
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(InputError::TooLong {
                field: "name",
                max: Self::MAX_CHARS,
                unit: "characters",
            });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(InputError::Malformed { field: "name" });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Makes the best name of a login's `X-Device-Name` header: control characters dropped,
    /// trimmed, cut to 100 characters; `None` when nothing is left.
    #[must_use]
    pub fn from_header_lossy(header: &str) -> Option<Self> {
        let cleaned: String = header.chars().filter(|c| !c.is_control()).collect();
        let cut: String = cleaned.trim().chars().take(Self::MAX_CHARS).collect();
        let name = cut.trim_end();
        (!name.is_empty()).then(|| Self(name.to_owned()))
    }

    /// "Unknown device": the name of a device that said nothing of itself.
    #[must_use]
    pub fn unknown() -> Self {
        Self("Unknown device".to_owned())
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceName {
    type Error = InputError;
    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::new(&name)
    }
}

impl From<DeviceName> for String {
    fn from(name: DeviceName) -> Self {
        name.0
    }
}

impl fmt::Debug for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
