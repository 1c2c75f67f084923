use std::fmt;
use std::str::FromStr;

/// Whether devices may or must hold a key (SPEC §9, DPoP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DpopMode {
    /// A `DPoP` header is ignored; no device is bound to a key.
    Off,
    /// A login with a valid proof binds its device to the proof's key; a login without one
    /// makes an ordinary bearer device.
    #[default]
    Allowed,
    /// Every login needs a valid proof; one without is 401 `dpop_invalid`.
    Required,
}

impl DpopMode {
    /// The settings spelling: `off`, `allowed`, `required`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Allowed => "allowed",
            Self::Required => "required",
        }
    }
}

impl fmt::Display for DpopMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A settings value that names no DPoP mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown DPoP mode {0:?}: expected off, allowed or required")]
pub struct UnknownDpopMode(pub String);

impl FromStr for DpopMode {
    type Err = UnknownDpopMode;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Off, Self::Allowed, Self::Required]
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| UnknownDpopMode(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_3_dpop_modes_round_trip_their_spelling() {
        for mode in [DpopMode::Off, DpopMode::Allowed, DpopMode::Required] {
            assert_eq!(mode.as_str().parse::<DpopMode>(), Ok(mode));
        }
        assert_eq!(DpopMode::default(), DpopMode::Allowed);
        assert!("Required".parse::<DpopMode>().is_err());
    }
}
