use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// A device's display name: trimmed, non-empty, at most 100 characters, no control
/// characters and no Unicode format characters.
///
/// Format characters (general category `Cf`: bidi overrides and isolates, zero-width
/// spaces and joiners, the byte-order mark...) are invisible yet reorder or hide what a
/// person reads: "Phone\u{202E}nimda" shows as "Phoneadmin". Names come from any client's
/// `X-Device-Name`, so they are dropped, both from a login's header and from a rename.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceName(String);

impl DeviceName {
    /// The most characters (Unicode scalar values) a name may hold.
    pub const MAX_CHARS: usize = 100;

    /// Validates a name given by a client (a rename): trimmed, then refused when empty, too
    /// long or holding control characters.
    pub fn new(name: &str) -> Result<Self, InputError> {
        let visible = without_format_characters(name);
        let trimmed = visible.trim();
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

    /// Makes the best name of a login's `X-Device-Name` header: control and format characters dropped,
    /// trimmed, cut to 100 characters; `None` when nothing is left.
    #[must_use]
    pub fn from_header_lossy(header: &str) -> Option<Self> {
        let cleaned: String = header
            .chars()
            .filter(|c| !c.is_control() && !is_format_character(*c))
            .collect();
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

fn without_format_characters(name: &str) -> String {
    name.chars().filter(|c| !is_format_character(*c)).collect()
}

/// Unicode general category `Cf` (Unicode 15.1): the invisible characters that change how
/// text around them is shown.
const FORMAT_CHARACTERS: [(char, char); 21] = [
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

fn is_format_character(c: char) -> bool {
    FORMAT_CHARACTERS
        .iter()
        .any(|(first, last)| (*first..=*last).contains(&c))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_unicode_format_characters() {
        let spoof = "Phone\u{202E}nimda\u{202C}";
        assert_eq!(
            DeviceName::from_header_lossy(spoof).map(|n| n.0),
            Some("Phonenimda".to_owned())
        );
        let hidden = "\u{200B}\u{2066}My\u{200D} laptop\u{FEFF}\u{2069}";
        assert_eq!(
            DeviceName::new(hidden).ok().map(|n| n.0).as_deref(),
            Some("My laptop")
        );
        assert_eq!(
            DeviceName::from_header_lossy("\u{200B}\u{200E}\u{00AD}"),
            None,
            "nothing visible is left"
        );
        assert!(matches!(
            DeviceName::new("\u{200B}\u{200F} "),
            Err(InputError::Empty { .. })
        ));
        assert_eq!(
            DeviceName::new("Café \u{1F4F1}")
                .ok()
                .map(|n| n.0)
                .as_deref(),
            Some("Café \u{1F4F1}"),
            "visible non-ASCII stays"
        );
    }
}
