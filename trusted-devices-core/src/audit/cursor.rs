//! The opaque cursor of `GET /devices/activity`: the position of the last entry a page
//! showed, which the next page starts after.

use std::fmt;

use chrono::DateTime;
use uuid::Uuid;

use crate::audit::AuditPosition;
use crate::token::{b64_decode, b64_encode};

/// A page's `next_cursor`: base64url of the last entry's instant (microseconds, 8 bytes)
/// and id (16 bytes). Opaque to clients; anything else is refused as `invalid_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor(AuditPosition);

/// A cursor this library did not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor of this activity list")]
pub struct BadCursor;

impl AuditCursor {
    /// The cursor after `position`.
    #[must_use]
    pub fn after(position: AuditPosition) -> Self {
        Self(position)
    }

    /// Where the next page starts (strictly older entries).
    #[must_use]
    pub fn position(&self) -> AuditPosition {
        self.0
    }

    /// Reads a cursor from its text.
    pub fn parse(text: &str) -> Result<Self, BadCursor> {
        if text.len() > 64 {
            return Err(BadCursor);
        }
        let bytes = b64_decode(text).ok_or(BadCursor)?;
        let (micros, id) = bytes.split_at_checked(8).ok_or(BadCursor)?;
        let micros = i64::from_be_bytes(micros.try_into().map_err(|_| BadCursor)?);
        let at = DateTime::from_timestamp_micros(micros).ok_or(BadCursor)?;
        let id = Uuid::from_slice(id).map_err(|_| BadCursor)?;
        Ok(Self(AuditPosition { at, id }))
    }
}

impl fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(&self.0.at.timestamp_micros().to_be_bytes());
        bytes.extend_from_slice(self.0.id.as_bytes());
        f.write_str(&b64_encode(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_garbage_is_refused() {
        let position = AuditPosition {
            at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap_or_default(),
            id: Uuid::from_u128(42),
        };
        let cursor = AuditCursor::after(position);
        assert_eq!(AuditCursor::parse(&cursor.to_string()), Ok(cursor));
        for bad in ["", "!!!", "AAAA", &"A".repeat(200)] {
            assert_eq!(AuditCursor::parse(bad), Err(BadCursor), "{bad}");
        }
    }
}
