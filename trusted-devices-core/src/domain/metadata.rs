use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::InputError;

/// Application context stored with a device (app version, tenant...): a JSON object of at
/// most 4 KiB serialized.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct Metadata(Map<String, Value>);

impl Metadata {
    /// The most bytes the serialized object may take.
    pub const MAX_BYTES: usize = 4096;

    /// Validates a JSON value: it must be an object of at most 4 KiB serialized.
    pub fn new(value: Value) -> Result<Self, InputError> {
        let Value::Object(map) = value else {
            return Err(InputError::Malformed { field: "metadata" });
        };
        let size = serde_json::to_vec(&map).map_or(usize::MAX, |bytes| bytes.len());
        if size > Self::MAX_BYTES {
            return Err(InputError::TooLong {
                field: "metadata",
                max: Self::MAX_BYTES,
                unit: "bytes",
            });
        }
        Ok(Self(map))
    }

    /// The object.
    #[must_use]
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Whether the object has no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Value> for Metadata {
    type Error = InputError;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Metadata> for Value {
    fn from(metadata: Metadata) -> Self {
        Value::Object(metadata.0)
    }
}
