//! Naming a device from its User-Agent ("Firefox on Linux") when the client gave no name,
//! and the stored User-Agent's bound.

use crate::domain::{DeviceName, Software, truncate_to_bytes};

/// The most bytes of a User-Agent that are stored.
pub const USER_AGENT_MAX_BYTES: usize = 512;

/// Cuts a User-Agent to [`USER_AGENT_MAX_BYTES`] without splitting a character.
#[must_use]
pub fn truncate_user_agent(user_agent: &str) -> &str {
    truncate_to_bytes(user_agent, USER_AGENT_MAX_BYTES)
}

/// "Firefox on Linux", "Chrome", "Android device", or `None` when nothing is recognised
/// (see [`Software`](crate::domain::Software)).
#[must_use]
pub fn name_from_user_agent(user_agent: &str) -> Option<DeviceName> {
    let name = Software::from_user_agent(user_agent).describe()?;
    DeviceName::from_header_lossy(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(user_agent: &str) -> Option<String> {
        name_from_user_agent(user_agent).map(String::from)
    }

    #[test]
    fn names_common_browsers_and_systems() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
                "Safari on macOS",
            ),
            ("curl/8.5.0", "curl"),
        ];
        for (user_agent, expected) in cases {
            assert_eq!(name(user_agent).as_deref(), Some(expected), "{user_agent}");
        }
    }

    #[test]
    fn unknown_agents_get_no_name() {
        assert_eq!(name("SomethingElse/1.0"), None);
        assert_eq!(name(""), None);
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        let long = "é".repeat(400); // 800 bytes
        let cut = truncate_user_agent(&long);
        assert!(cut.len() <= USER_AGENT_MAX_BYTES);
        assert_eq!(cut.len(), 512);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
