//! Rule C: expired devices and tokens are deleted in batches, never silently elsewhere.

use std::num::NonZeroU32;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::events::RevokeReason;
use crate::service::TrustedDevices;

/// What [`TrustedDevices::cleanup`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Devices whose idle or absolute deadline had passed.
    pub devices: u64,
    /// Refresh-token records past their `expires_at`.
    pub tokens: u64,
    /// Sealed successors forgotten because their reuse grace had passed.
    pub seals: u64,
}

impl TrustedDevices {
    /// Rule C: deletes every device whose deadline is at or before `now`, `batch` at a time
    /// so that no storage operation grows with the table, then forgets the sealed
    /// successors past the reuse grace, then deletes the expired token records.
    /// Emits `DeviceRevoked { reason: Expired }` for each device.
    pub async fn cleanup(
        &self,
        now: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<CleanupReport, Error> {
        let mut report = CleanupReport::default();
        loop {
            let expired = self.inner.devices.delete_expired(now, batch).await?;
            let count = u64::try_from(expired.len()).unwrap_or(u64::MAX);
            report.devices += count;
            self.finish_revocation(expired, RevokeReason::Expired).await;
            if count < u64::from(batch.get()) {
                break;
            }
        }
        let consumed_before = now - self.inner.policy.refresh_reuse_grace_delta();
        loop {
            let count = self
                .inner
                .tokens
                .forget_sealed(consumed_before, batch)
                .await?;
            report.seals += count;
            if count < u64::from(batch.get()) {
                break;
            }
        }
        loop {
            let count = self.inner.tokens.delete_expired(now, batch).await?;
            report.tokens += count;
            if count < u64::from(batch.get()) {
                break;
            }
        }
        Ok(report)
    }
}
