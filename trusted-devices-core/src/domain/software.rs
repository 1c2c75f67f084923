//! Which browser and operating system a client runs (rule G's `new_browser` and `new_os`,
//! and a device's default name): from the User-Agent through the `woothee` parser, and from
//! the User-Agent client hints (`Sec-CH-UA`, `Sec-CH-UA-Platform`) when a browser sends them.
//!
//! Families only ("Chrome", "Windows"), never versions: a browser update is not a new
//! browser. Where the parser knows nothing (command-line clients, HTTP libraries) a short
//! table of our own answers.

use serde::Serialize;

use crate::domain::user_agent::truncate_user_agent;

/// A client's browser and operating system families, each when recognised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Software {
    /// "Firefox", "Chrome", "Edge", "Safari", "curl"...
    pub browser: Option<String>,
    /// "Windows", "macOS", "Linux", "Android", "iOS", "iPadOS", "ChromeOS"...
    pub os: Option<String>,
}

/// Clients the parser does not name, most specific first.
const CLIENTS: &[(&str, &str)] = &[
    ("curl/", "curl"),
    ("okhttp/", "OkHttp"),
    ("python-requests/", "Python Requests"),
    ("Chromium/", "Chromium"),
];

/// The parser's operating-system names, as this library names their families.
const SYSTEMS: &[(&str, &str)] = &[
    ("Mac OSX", "macOS"),
    ("iPhone", "iOS"),
    ("iPod", "iOS"),
    ("iPad", "iPadOS"),
];

/// The parser's browser names, as this library names them.
const BROWSERS: &[(&str, &str)] = &[("SamsungBrowser", "Samsung Internet")];

/// Platforms of `Sec-CH-UA-Platform`, as this library names them.
const PLATFORMS: &[(&str, &str)] = &[("macOS", "macOS"), ("Chrome OS", "ChromeOS")];

impl Software {
    /// Browser and system from a User-Agent.
    #[must_use]
    pub fn from_user_agent(user_agent: &str) -> Self {
        let user_agent = truncate_user_agent(user_agent);
        let parsed = woothee::parser::Parser::new().parse(user_agent);
        fn known(value: &str) -> Option<&str> {
            (!value.is_empty() && value != "UNKNOWN").then_some(value)
        }
        let browser = parsed
            .as_ref()
            .filter(|result| result.category != "crawler" && result.browser_type == "browser")
            .and_then(|result| known(result.name))
            .map(|name| renamed(BROWSERS, name))
            .or_else(|| first_match(CLIENTS, user_agent).map(str::to_owned));
        let os = parsed
            .as_ref()
            .and_then(|result| known(result.os))
            .map(os_family);
        Self { browser, os }
    }

    /// As [`from_user_agent`](Self::from_user_agent), with the client hints winning where
    /// they name something: they are what Chromium browsers send instead of a frozen
    /// User-Agent. `brands` is `Sec-CH-UA`, `platform` is `Sec-CH-UA-Platform`.
    #[must_use]
    pub fn from_login(user_agent: &str, brands: Option<&str>, platform: Option<&str>) -> Self {
        let mut software = Self::from_user_agent(user_agent);
        if let Some(brand) = brands.and_then(brand_of) {
            software.browser = Some(brand);
        }
        if let Some(platform) = platform.and_then(quoted_string).filter(|p| !p.is_empty()) {
            software.os = Some(renamed(PLATFORMS, &platform));
        }
        software
    }

    /// "Firefox on Linux", "Chrome", "Android device", or `None` when nothing is known.
    #[must_use]
    pub fn describe(&self) -> Option<String> {
        match (&self.browser, &self.os) {
            (Some(browser), Some(os)) => Some(format!("{browser} on {os}")),
            (Some(browser), None) => Some(browser.clone()),
            (None, Some(os)) => Some(format!("{os} device")),
            (None, None) => None,
        }
    }
}

fn renamed(table: &[(&str, &str)], name: &str) -> String {
    table
        .iter()
        .find(|(from, _)| *from == name)
        .map_or(name, |(_, to)| to)
        .to_owned()
}

fn os_family(os: &str) -> String {
    let is_desktop_windows = os.starts_with("Windows")
        && !os.starts_with("Windows Phone")
        && !os.starts_with("Windows CE");
    if is_desktop_windows {
        return "Windows".to_owned();
    }
    renamed(SYSTEMS, os)
}

fn first_match(table: &[(&str, &'static str)], user_agent: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(needle, _)| user_agent.contains(needle))
        .map(|(_, name)| *name)
}

/// The browser a `Sec-CH-UA` list names: its most specific brand, leaving out the GREASE
/// brand (a made-up "Not A Brand" that browsers add so that servers parse the list
/// properly) and the engine ("Chromium") when a product brand is there too.
fn brand_of(brands: &str) -> Option<String> {
    let names: Vec<String> = list_strings(brands)
        .into_iter()
        .filter(|brand| !is_grease(brand))
        .collect();
    let product = names.iter().find(|brand| *brand != "Chromium");
    let chosen = product.or(names.first())?;
    Some(match chosen.as_str() {
        "Google Chrome" => "Chrome".to_owned(),
        "Microsoft Edge" => "Edge".to_owned(),
        other => other.to_owned(),
    })
}

/// GREASE brands contain "Not" and punctuation no real brand uses ("Not A(Brand",
/// "Not/A)Brand", "Not?A_Brand").
fn is_grease(brand: &str) -> bool {
    brand.contains("Not")
        && brand.contains(|c: char| "()/;:?=_-.".contains(c) || c == ' ')
        && brand.contains("Brand")
}

/// The string of each member of a structured-field list (RFC 8941) such as
/// `"Chromium";v="124", "Google Chrome";v="124"`: members whose first item is not a
/// quoted string are skipped, parameters ignored. Written here rather than taken from the
/// `sfv` crate, whose current release needs a newer Rust than this workspace supports.
fn list_strings(field: &str) -> Vec<String> {
    let mut strings = Vec::new();
    let mut rest = field;
    loop {
        rest = rest.trim_start();
        if let Some((string, after)) = leading_quoted(rest) {
            strings.push(string);
            rest = after;
        }
        // Skip this member's parameters up to the next comma outside quotes.
        match next_comma(rest) {
            Some(at) => rest = rest.get(at + 1..).unwrap_or_default(),
            None => return strings,
        }
    }
}

/// A whole field that is one quoted string (`"Windows"`), unquoted.
fn quoted_string(field: &str) -> Option<String> {
    let (string, rest) = leading_quoted(field.trim())?;
    rest.trim().is_empty().then_some(string)
}

/// The quoted string at the start of `text` (escapes `\"` and `\\` undone) and what
/// follows it; `None` when `text` does not start with a complete one.
fn leading_quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('"')?.char_indices();
    let mut string = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((string, text.get(at + 2..).unwrap_or_default())),
            '\\' => string.push(chars.next()?.1),
            c => string.push(c),
        }
    }
    None
}

/// The byte index of the first comma outside a quoted string.
fn next_comma(text: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => return Some(at),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(user_agent: &str) -> (Option<String>, Option<String>) {
        let software = Software::from_user_agent(user_agent);
        (software.browser, software.os)
    }

    fn pair(browser: &str, os: &str) -> (Option<String>, Option<String>) {
        (Some(browser.to_owned()), Some(os.to_owned()))
    }

    #[test]
    fn families_of_common_user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                pair("Firefox", "Linux"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
                pair("Edge", "Windows"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                pair("Safari", "iOS"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
                pair("Chrome", "Android"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
                pair("Safari", "macOS"),
            ),
            (
                "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
                pair("Internet Explorer", "Windows"),
            ),
            ("curl/8.5.0", (Some("curl".to_owned()), None)),
        ];
        for (user_agent, expected) in cases {
            assert_eq!(of(user_agent), expected, "{user_agent}");
        }
    }

    #[test]
    fn unknown_agents_name_nothing() {
        assert_eq!(of("SomethingElse/1.0"), (None, None));
        assert_eq!(of(""), (None, None));
    }

    #[test]
    fn client_hints_win_over_a_frozen_user_agent() {
        let frozen = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        let software = Software::from_login(
            frozen,
            Some(r#""Chromium";v="124", "Microsoft Edge";v="124", "Not-A.Brand";v="99""#),
            Some(r#""Windows""#),
        );
        assert_eq!(
            software,
            Software {
                browser: Some("Edge".into()),
                os: Some("Windows".into()),
            }
        );
    }

    #[test]
    fn client_hint_brands_skip_grease_and_the_engine() {
        let brand = |field| brand_of(field);
        assert_eq!(
            brand(r#""Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126""#).as_deref(),
            Some("Chrome")
        );
        assert_eq!(
            brand(r#""Chromium";v="126", "Not?A_Brand";v="24""#).as_deref(),
            Some("Chromium")
        );
        assert_eq!(
            brand(r#""Brave";v="1", "Not;A=Brand";v="8""#).as_deref(),
            Some("Brave")
        );
        assert_eq!(brand(""), None);
        assert_eq!(brand("garbage, \"unterminated"), None);
    }

    #[test]
    fn structured_strings_undo_escapes_and_ignore_commas_in_quotes() {
        assert_eq!(
            list_strings(r#""a,b";v="1", "c\"d""#),
            vec!["a,b".to_owned(), "c\"d".to_owned()]
        );
        assert_eq!(quoted_string(r#" "macOS" "#).as_deref(), Some("macOS"));
        assert_eq!(quoted_string("macOS"), None);
        assert_eq!(quoted_string(r#""macOS" trailing"#), None);
    }

    #[test]
    fn descriptions_read_as_names() {
        let both = Software {
            browser: Some("Firefox".into()),
            os: Some("Linux".into()),
        };
        assert_eq!(both.describe().as_deref(), Some("Firefox on Linux"));
        let os_only = Software {
            browser: None,
            os: Some("Android".into()),
        };
        assert_eq!(os_only.describe().as_deref(), Some("Android device"));
        assert_eq!(Software::default().describe(), None);
    }
}
