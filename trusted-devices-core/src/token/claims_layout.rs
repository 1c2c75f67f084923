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
pub(crate) fn read(json: &[u8]) -> Option<LaidOut<'_>> {
    let rest = json.strip_prefix(br#"{"sub":""#)?;
    let (sub, rest) = plain_string(rest)?;
    let rest = rest.strip_prefix(br#","did":""#)?;
    let (did, rest) = plain_string(rest)?;
    let rest = rest.strip_prefix(br#","iat":"#)?;
    let (iat, rest) = integer(rest)?;
    let rest = rest.strip_prefix(br#","exp":"#)?;
    let (exp, rest) = integer(rest)?;
    let rest = rest.strip_prefix(br#","jti":""#)?;
    let (_jti, rest) = plain_string(rest)?;
    let (transport, rest) = match rest.strip_prefix(br#","tsp":"cookie""#) {
        Some(rest) => (Transport::Cookie, rest),
        None => (Transport::Bearer, rest),
    };
    (rest == b"}").then_some(LaidOut {
        sub,
        did,
        iat,
        exp,
        transport,
    })
}

/// A string up to its closing quote, when it has no escape and no control character
/// (anything else is left to the JSON parser); then what follows the quote.
fn plain_string(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = bytes
        .iter()
        .position(|byte| matches!(byte, b'"' | b'\\') || *byte < b' ')?;
    let (text, rest) = bytes.split_at(end);
    let rest = rest.strip_prefix(b"\"")?;
    Some((std::str::from_utf8(text).ok()?, rest))
}

/// A JSON integer as serde_json writes an `i64` (an optional minus, digits, no leading
/// zero), and what follows it.
fn integer(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let digits_from = usize::from(bytes.first() == Some(&b'-'));
    let end = bytes
        .iter()
        .skip(digits_from)
        .position(|byte| !byte.is_ascii_digit())
        .map_or(bytes.len(), |at| at + digits_from);
    let (number, rest) = bytes.split_at(end);
    let digits = number.get(digits_from..)?;
    if digits.is_empty() || (digits.len() > 1 && digits.first() == Some(&b'0')) {
        return None;
    }
    Some((std::str::from_utf8(number).ok()?.parse().ok()?, rest))
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
        }
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

    /// Anything else is left to the JSON parser, never misread.
    #[test]
    fn leaves_every_other_layout_to_the_parser() {
        let escaped =
            serde_json::to_vec(&claims("say \"hi\"", Transport::Bearer, 1)).unwrap_or_default();
        let others: [&[u8]; 9] = [
            &escaped,
            br#"{"did":"d","sub":"s","iat":1,"exp":2,"jti":"j"}"#,
            br#"{ "sub":"s","did":"d","iat":1,"exp":2,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":01,"exp":2,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":1.5,"exp":2,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":1,"exp":2,"jti":"j","tsp":"bearer"}"#,
            br#"{"sub":"s","did":"d","iat":1,"exp":2,"jti":"j","x":1}"#,
            br#"{"sub":"s","did":"d","iat":1,"exp":99999999999999999999,"jti":"j"}"#,
            br#"{"sub":"s","did":"d","iat":1,"exp":2,"jti":"j"} "#,
        ];
        for json in others {
            assert_eq!(read(json), None, "{}", String::from_utf8_lossy(json));
        }
    }
}
