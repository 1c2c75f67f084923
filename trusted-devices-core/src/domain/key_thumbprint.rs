//! The key a device holds (SPEC §9), as the device record keeps it: an RFC 7638 thumbprint.
//! A plain value of the domain; how it is computed from a key is `dpop`'s business.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// An RFC 7638 JWK SHA-256 thumbprint (`jkt`): 43 base64url characters. What a key-bound
/// device stores and its access tokens carry as `cnf.jkt`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Thumbprint(String);

impl Thumbprint {
    /// Reads a stored thumbprint; `None` unless it is 43 base64url characters of 32 bytes.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        let valid = text.len() == 43
            && URL_SAFE_NO_PAD.decode_slice(text, &mut bytes).ok() == Some(32)
            && URL_SAFE_NO_PAD.encode(bytes) == text;
        valid.then(|| Self(text.to_owned()))
    }

    /// The thumbprint of a key whose canonical JWK hashed to `digest` (SHA-256).
    #[must_use]
    pub(crate) fn of_sha256(digest: &[u8]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(digest))
    }

    /// The base64url text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Thumbprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Thumbprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not a JWK thumbprint"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_thumbprint_reads_back_only_when_well_formed() {
        let good = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
        assert_eq!(Thumbprint::parse(good).unwrap().as_str(), good);
        assert!(Thumbprint::parse("short").is_none());
        assert!(Thumbprint::parse(&format!("{good}=")).is_none());
    }
}
