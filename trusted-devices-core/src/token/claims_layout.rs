//! Reading the claims of a token this library signed, in the exact layout its serializer
//! writes (`{"sub":"…","did":"…","iat":…,"exp":…,"jti":"…"}`, then `,"tsp":"cookie"` for
//! cookie tokens): a byte scan instead of a JSON parser, on the request path of every
//! authentication. It runs only after the signature was verified, and answers `None`
//! for anything else (another field order or spacing, an escaped string, another
//! library's token), which is then parsed as JSON like any token: the scan never decides
//! that a token is bad, it only recognises our own quickly.

use crate::token::Transport;

/// The claims a check reads, borrowed from the token's decoded JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LaidOut<'a> {
    pub(crate) sub: &'a str,
    pub(crate) did: &'a str,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) transport: Transport,
}

/// The claims, if `json` is exactly in this library's layout.
///
/// Whole-buffer passes first (no escape, no control character, valid UTF-8), so that
/// each string then simply ends at the next quote; the fixed parts are compared as
/// arrays, which compiles to a load and a compare each. (A byte-by-byte scan with a
/// `memcmp` per key cost more than the rest of the reading together.)
pub(crate) fn read(json: &[u8]) -> Option<LaidOut<'_>> {
    // Without early exit, so that the loop is vectorised.
    let needs_parser = json.iter().fold(false, |found, &byte| {
        found | (byte == b'\\') | (byte < b' ')
    });
    if needs_parser {
        return None;
    }
    let json = std::str::from_utf8(json).ok()?;
    let rest = after(json, br#"{"sub":""#)?;
    let (sub, rest) = string(rest)?;
    let rest = after(rest, br#","did":""#)?;
    let (did, rest) = string_of_length(rest, DEVICE_ID_CHARS)?;
    let rest = after(rest, br#","iat":"#)?;
    let (iat, rest) = integer(rest)?;
    let rest = after(rest, br#","exp":"#)?;
    let (exp, rest) = integer(rest)?;
    let rest = after(rest, br#","jti":""#)?;
    let (_jti, rest) = string_of_length(rest, JTI_CHARS)?;
    let (transport, rest) = match after(rest, br#","tsp":"cookie""#) {
        Some(rest) => (Transport::Cookie, rest),
        None => (Transport::Bearer, rest),
    };
    // A key-bound device's confirmation (SPEC §9); the device itself says which key.
    let rest = match after(rest, br#","cnf":{"jkt":""#) {
        Some(rest) => after(string_of_length(rest, JKT_CHARS)?.1, b"}")?,
        None => rest,
    };
    (rest == "}").then_some(LaidOut {
        sub,
        did,
        iat,
        exp,
        transport,
    })
}

/// The hyphenated device id this library writes.
const DEVICE_ID_CHARS: usize = 36;
/// An RFC 7638 thumbprint: 32 bytes in base64url.
const JKT_CHARS: usize = 43;
/// The `jti` this library writes: 16 random bytes in base64url.
const JTI_CHARS: usize = 22;

/// What follows `prefix` at the start of `text`.
fn after<'t, const N: usize>(text: &'t str, prefix: &[u8; N]) -> Option<&'t str> {
    let (head, _) = text.as_bytes().split_first_chunk::<N>()?;
    if head != prefix {
        return None;
    }
    // After an ASCII prefix: a char boundary.
    text.get(N..)
}

/// A string of `length` bytes when it has that length (checked without an early exit, so
/// vectorised), otherwise as [`string`] finds it.
fn string_of_length(text: &str, length: usize) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let fits = bytes.get(length) == Some(&b'"')
        && !bytes
            .get(..length)?
            .iter()
            .fold(false, |quote, &byte| quote | (byte == b'"'));
    if fits {
        return Some((text.get(..length)?, text.get(length + 1..)?));
    }
    string(text)
}

/// A string up to its closing quote (the whole-buffer passes ruled out escapes), and what
/// follows the quote.
fn string(text: &str) -> Option<(&str, &str)> {
    let end = text.bytes().position(|byte| byte == b'"')?;
    Some((text.get(..end)?, text.get(end + 1..)?))
}

/// A JSON integer as serde_json writes an `i64` (an optional minus, digits, no leading
/// zero), and what follows it; `None` beyond the range. One pass over the digits.
fn integer(text: &str) -> Option<(i64, &str)> {
    let bytes = text.as_bytes();
    let negative = bytes.first() == Some(&b'-');
    let digits_from = usize::from(negative);
    let mut end = digits_from;
    let mut magnitude: u64 = 0;
    while let Some(digit) = bytes.get(end).filter(|byte| byte.is_ascii_digit()) {
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
        end += 1;
    }
    let digits = end - digits_from;
    let leading_zero = digits > 1 && bytes.get(digits_from) == Some(&b'0');
    if digits == 0 || leading_zero {
        return None;
    }
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)?
    } else {
        i64::try_from(magnitude).ok()?
    };
    // A char boundary: every byte before it is ASCII.
    Some((value, text.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::AccessClaims;

    fn claims(sub: &str, transport: Transport, iat: i64) -> AccessClaims {
        AccessClaims {
            sub: sub.to_owned(),
            did: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_owned(),
            iat,
            exp: iat + 900,
            jti: "AAECAwQFBgcICQoLDA0ODw".to_owned(),
            transport,
            cnf: None,
        }
    }

    #[test]
    fn section_9_reads_a_key_bound_token_in_this_librarys_layout() {
        let mut bound = claims("alice", Transport::Bearer, 1_800_000_000);
        bound.cnf = Some(crate::token::Confirmation {
            jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".to_owned(),
        });
        let json = serde_json::to_vec(&bound).unwrap_or_default();
        assert!(read(&json).is_some(), "{}", String::from_utf8_lossy(&json));
    }

    /// What serde_json writes is read back the same, for every transport and sign.
    #[test]
    fn reads_what_this_library_writes() {
        for (sub, transport, iat) in [
            ("alice", Transport::Bearer, 1_800_000_000),
            ("bob@example.com", Transport::Cookie, 0),
            ("ünïcødé 用户", Transport::Bearer, -5),
        ] {
            let written = claims(sub, transport, iat);
            let json = serde_json::to_vec(&written).unwrap_or_default();
            let read = read(&json);
            assert_eq!(
                read,
                Some(LaidOut {
                    sub,
                    did: &written.did,
                    iat,
                    exp: iat + 900,
                    transport,
                }),
                "{}",
                String::from_utf8_lossy(&json)
            );
        }
    }

    /// Strings of other lengths than this library's device id and `jti` are read whole,
    /// never cut at the usual length: for every pair of lengths up to past the usual ones
    /// (a short device id puts the next keys' quotes inside the usual window).
    #[test]
    fn reads_strings_of_every_length() {
        for did_length in 0..=40 {
            for jti_length in 0..=40 {
                let mut written = claims("alice", Transport::Bearer, 1_800_000_000);
                written.did = "d".repeat(did_length);
                written.jti = "j".repeat(jti_length);
                let json = serde_json::to_vec(&written).unwrap_or_default();
                let read = read(&json);
                assert_eq!(
                    read.map(|claims| (claims.did.len(), claims.exp)),
                    Some((did_length, written.exp)),
                    "{}",
                    String::from_utf8_lossy(&json)
                );
            }
        }
    }

    /// The whole `i64` range is read, both ends included.
    #[test]
    fn reads_the_ends_of_the_integer_range() {
        let json = format!(
            r#"{{"sub":"s","did":"d","iat":{},"exp":{},"jti":"j"}}"#,
            i64::MIN,
            i64::MAX
        );
        let read = read(json.as_bytes());
        assert_eq!(
            read.map(|claims| (claims.iat, claims.exp)),
            Some((i64::MIN, i64::MAX))
        );
    }

    /// Anything else is left to the JSON parser, never misread.
    #[test]
    fn leaves_every_other_layout_to_the_parser() {
        let escaped =
            serde_json::to_vec(&claims("say \"hi\"", Transport::Bearer, 1)).unwrap_or_default();
        let others: [&[u8]; 12] = [
            &escaped,
            br#"{"did":"d","sub":"s","iat":1,"exp":2,"jti":"j"}"#,
            br#"{ "sub":"s","did":"d","iat":1,"exp":2,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":01,"exp":2,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":1.5,"exp":2,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":1,"exp":2,"jti":"j","tsp":"bearer"}"#,
            br#"{"sub":"s","did":"d","iat":1,"exp":2,"jti":"j","x":1}"#,
            br#"{"sub":"s","did":"d","iat":1,"exp":99999999999999999999,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":1,"exp":2,"jti":"j"} "#,
            br#"{"sub":"s","did":"d","iat":1,"exp":9223372036854775808,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":-9223372036854775809,"exp":2,"jti":"j"}"#,
            b"{\"sub\":\"\xff\",\"did\":\"d\",\"iat\":1,\"exp\":2,\"jti\":\"j\"}",
        ];
        for json in others {
            assert_eq!(read(json), None, "{}", String::from_utf8_lossy(json));
        }
    }
}
