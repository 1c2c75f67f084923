//! Server nonces for DPoP proofs (RFC 9449 section 8), with `dpop_nonce` on: a nonce is
//! its issue time and a MAC of it under the signing key, so every server that shares the
//! keys accepts every other's nonces without storing any, and a nonce is good for the
//! proof-age window after it was issued.

use chrono::{DateTime, TimeDelta, Utc};
use hmac::Mac;

use crate::token::{KeyRing, b64_decode_into, b64_encode};

const LABEL: &[u8] = b"trusted-devices dpop nonce v1";
/// Issue time (8 bytes) and the first 16 bytes of the MAC.
const NONCE_BYTES: usize = 24;

/// A fresh nonce for `now`.
#[must_use]
pub(crate) fn issue(keys: &KeyRing, now: DateTime<Utc>) -> String {
    let issued = now.timestamp().to_be_bytes();
    let mut nonce = [0u8; NONCE_BYTES];
    let (time, tag) = nonce.split_at_mut(8);
    time.copy_from_slice(&issued);
    let mac = keys
        .active()
        .mac()
        .chain_update(LABEL)
        .chain_update(issued)
        .finalize()
        .into_bytes();
    for (slot, byte) in tag.iter_mut().zip(mac.iter()) {
        *slot = *byte;
    }
    b64_encode(&nonce)
}

/// How long ago `nonce` was issued, if a key of `keys` issued it no longer than `lifetime`
/// before `now`: one MAC check tells both whether it is good and whether it is due for
/// renewal.
#[must_use]
pub(crate) fn age_if_fresh(
    keys: &KeyRing,
    nonce: &str,
    now: DateTime<Utc>,
    lifetime: TimeDelta,
) -> Option<TimeDelta> {
    let mut raw = [0u8; NONCE_BYTES];
    if b64_decode_into(nonce, &mut raw) != Some(NONCE_BYTES) {
        return None;
    }
    let (time, tag) = raw.split_at(8);
    let issued_bytes = <[u8; 8]>::try_from(time).ok()?;
    let issued = i64::from_be_bytes(issued_bytes);
    let age = now.timestamp().saturating_sub(issued);
    if age < 0 || age > lifetime.num_seconds() {
        return None;
    }
    let genuine = keys.all().any(|key| {
        key.mac()
            .chain_update(LABEL)
            .chain_update(issued_bytes)
            .verify_truncated_left(tag)
            .is_ok()
    });
    genuine.then(|| TimeDelta::seconds(age))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::SigningKey;

    fn ring(secret: u8) -> KeyRing {
        KeyRing::new(SigningKey::new("k", &[secret; 32]).unwrap())
    }

    fn is_fresh(keys: &KeyRing, nonce: &str, now: DateTime<Utc>, lifetime: TimeDelta) -> bool {
        age_if_fresh(keys, nonce, now, lifetime).is_some()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn section_9_a_nonce_is_good_for_its_window_on_any_server_sharing_the_keys() {
        let minute = TimeDelta::seconds(60);
        let nonce = issue(&ring(1), at(1_000));
        assert!(is_fresh(&ring(1), &nonce, at(1_000), minute));
        assert!(is_fresh(&ring(1), &nonce, at(1_060), minute));
        assert_eq!(
            age_if_fresh(&ring(1), &nonce, at(1_045), minute),
            Some(TimeDelta::seconds(45))
        );
        assert!(!is_fresh(&ring(1), &nonce, at(1_061), minute), "stale");
        assert!(
            !is_fresh(&ring(1), &nonce, at(999), minute),
            "from the future"
        );
        assert!(
            !is_fresh(&ring(2), &nonce, at(1_000), minute),
            "another key"
        );
        assert!(!is_fresh(&ring(1), "not-a-nonce", at(1_000), minute));
    }
}
