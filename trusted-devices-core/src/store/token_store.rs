use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{DeviceId, UserId};
use crate::error::StorageError;
use crate::token::{RefreshTokenHash, SealedSuccessor};

/// A stored refresh token: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// SHA-256 of the token.
    pub hash: RefreshTokenHash,
    /// The device it belongs to.
    pub device_id: DeviceId,
    /// The device's owner.
    pub user_id: UserId,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted: the earlier of the idle and absolute deadlines. Stores
    /// may forget the record from then on.
    pub expires_at: DateTime<Utc>,
    /// Set once the token has been consumed.
    pub rotated: Option<Rotated>,
}

/// How a consumed token was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// When it was consumed.
    pub at: DateTime<Utc>,
    /// The hash of its successor.
    pub successor: RefreshTokenHash,
    /// The successor's secret, sealed with the consumed token; `None` once forgotten.
    ///
    /// A seal is needed only within the reuse grace. Kept longer, a copy of the database
    /// plus any old consumed token would unseal the chain forward to the live token, so
    /// stores forget it once the grace has passed ([`Rotation::forget_sealed_before`],
    /// [`TokenStore::forget_sealed`]); the record itself stays for reuse detection.
    pub sealed_successor: Option<SealedSuccessor>,
}

/// One refresh: consume `presented` and store `successor`, as a single compare-and-swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The hash of the presented token.
    pub presented: RefreshTokenHash,
    /// The device the presented token names; a record of another device does not match.
    pub device_id: DeviceId,
    /// The record to insert if the presented token is live.
    pub successor: RefreshRecord,
    /// The successor's secret sealed with the presented token, kept on the consumed record.
    pub sealed_successor: SealedSuccessor,
    /// The time of the refresh.
    pub now: DateTime<Utc>,
    /// `refresh_reuse_grace`.
    pub grace: TimeDelta,
}

impl Rotation {
    /// Rule R's answer for a presented token whose stored record is `stored`: `None` when
    /// the record is live and must be consumed (the store then swaps it for the successor
    /// in the same atomic operation), the outcome to return otherwise.
    ///
    /// Every store decides with this function, so the grace rule is written once.
    #[must_use]
    pub fn refusal(&self, stored: Option<&RefreshRecord>) -> Option<RotateOutcome> {
        let Some(record) = stored.filter(|record| record.device_id == self.device_id) else {
            return Some(RotateOutcome::NotFound);
        };
        if let Some(rotated) = record.rotated {
            let within_grace = self.now - rotated.at <= self.grace;
            return Some(match rotated.sealed_successor {
                Some(sealed_successor) if within_grace => {
                    RotateOutcome::Replayed { sealed_successor }
                }
                // Past the grace, or the seal already forgotten: theft is assumed.
                _ => RotateOutcome::Reused {
                    device_id: record.device_id,
                    user_id: record.user_id.clone(),
                },
            });
        }
        if self.now >= record.expires_at {
            return Some(RotateOutcome::Expired);
        }
        None
    }

    /// The outcome for a presented token that a store's compare-and-swap did not consume,
    /// given what is stored: rule R's [`refusal`](Self::refusal). A record that is live
    /// nonetheless means the swap itself is broken, reported as corrupt storage.
    pub fn unconsumed(
        &self,
        stored: Option<&RefreshRecord>,
    ) -> Result<RotateOutcome, StorageError> {
        self.refusal(stored)
            .ok_or_else(|| StorageError::corrupt("a live refresh token could not be consumed"))
    }

    /// What the consumed record is marked with.
    #[must_use]
    pub fn rotated(&self) -> Rotated {
        Rotated {
            at: self.now,
            successor: self.successor.hash,
            sealed_successor: Some(self.sealed_successor),
        }
    }

    /// Seals of this device's tokens consumed strictly before this instant are past the
    /// grace: the store forgets them in the same atomic operation as the rotation.
    #[must_use]
    pub fn forget_sealed_before(&self) -> DateTime<Utc> {
        self.now - self.grace
    }
}

/// The result of [`TokenStore::rotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// The presented token was live: it is now consumed and the successor stored.
    Rotated,
    /// The presented token was consumed at most `grace` ago: nothing changed; here is the
    /// successor stored then, so that racing clients converge on one token.
    Replayed {
        /// The stored successor's sealed secret.
        sealed_successor: SealedSuccessor,
    },
    /// The presented token was consumed more than `grace` ago: theft is assumed.
    Reused {
        /// Its device, to be revoked.
        device_id: DeviceId,
        /// The device's owner.
        user_id: UserId,
    },
    /// The presented token is live but `now` is at or past its `expires_at`.
    Expired,
    /// No record of the presented token for that device.
    NotFound,
}

/// Where refresh tokens live (as hashes). May be another backend than the devices.
///
/// Every method is one atomic operation; the conformance suite checks that N concurrent
/// rotations of one token yield exactly one successor.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a login's first refresh token.
    async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError>;

    /// Consumes a token and stores its successor as one compare-and-swap, applying rule R:
    /// within the grace of a past rotation the stored successor is returned, after it the
    /// reuse is reported.
    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError>;

    /// Deletes every token of these devices; returns how many records went.
    async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError>;

    /// Forgets the sealed successor of at most `batch` records consumed strictly before
    /// `consumed_before` (the cleanup's `now` less the reuse grace), keeping the records
    /// for reuse detection; returns how many seals went. A store whose seals expire by
    /// themselves (a key TTL) may answer 0.
    async fn forget_sealed(
        &self,
        consumed_before: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError>;

    /// Deletes at most `batch` records whose `expires_at` is at or before `now`; returns how
    /// many went. Consumed records that have not expired stay: reuse detection needs them.
    async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError>;
}
