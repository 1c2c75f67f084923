//! Rule A applied: listing, reading, changing and revoking a user's devices.

use crate::audit::Cause;
use crate::domain::{Device, DeviceId, DevicePatch, UserId};
use crate::error::Error;
use crate::events::{Event, RevokeReason};
use crate::service::{Authenticated, TrustedDevices};

impl TrustedDevices {
    /// Every device of the acting device's user, oldest first (by `created_at`, then `id`
    /// for devices created at the same instant): the one place the order is decided, so
    /// that every store may answer in its own.
    pub async fn list(&self, acting: &Authenticated) -> Result<Vec<Device>, Error> {
        let mut devices = self.inner.devices.list(&acting.device.user_id).await?;
        devices.sort_by_key(|device| (device.created_at, device.id));
        Ok(devices)
    }

    /// One device of the acting device's user; another user's device is `device_not_found`.
    pub async fn get(&self, acting: &Authenticated, id: DeviceId) -> Result<Device, Error> {
        self.inner
            .devices
            .get(id)
            .await?
            .filter(|device| device.user_id == acting.device.user_id)
            .ok_or(Error::DeviceNotFound)
    }

    /// Renames a device or changes its permission flags, as rule A allows.
    pub async fn update(
        &self,
        acting: &Authenticated,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<Device, Error> {
        let target = self.get(acting, id).await?;
        self.inner
            .policy
            .check_update(&acting.device, &target, patch, self.now())?;
        let updated = self
            .inner
            .devices
            .update(&acting.device.user_id, id, patch)
            .await?
            .ok_or(Error::DeviceNotFound)?;
        let updated_event = Event::DeviceUpdated {
            before: Box::new(target),
            device: updated.clone(),
            by: acting.device.id,
        };
        self.emit(updated_event, &acting.cause()).await;
        Ok(updated)
    }

    /// Revokes a device, as rule A allows; the acting device may always revoke itself.
    pub async fn delete(&self, acting: &Authenticated, id: DeviceId) -> Result<(), Error> {
        let target = self.get(acting, id).await?;
        self.inner
            .policy
            .check_delete(&acting.device, &target, self.now())?;
        let deleted = self
            .inner
            .devices
            .delete(&acting.device.user_id, id)
            .await?
            .ok_or(Error::DeviceNotFound)?;
        let reason = if id == acting.device.id {
            RevokeReason::Logout
        } else {
            RevokeReason::RevokedBy(acting.device.id)
        };
        self.finish_revocation(vec![deleted], reason, &acting.cause())
            .await;
        Ok(())
    }

    /// Revokes the acting device itself.
    pub async fn logout(&self, acting: &Authenticated) -> Result<(), Error> {
        self.delete(acting, acting.device.id).await
    }

    /// Revokes every other device of the user, as the delete rule allows; returns how many.
    pub async fn revoke_others(&self, acting: &Authenticated) -> Result<u64, Error> {
        self.inner
            .policy
            .check_revoke_others(&acting.device, self.now())?;
        let revoked = self
            .inner
            .devices
            .delete_others(&acting.device.user_id, acting.device.id)
            .await?;
        let count = u64::try_from(revoked.len()).unwrap_or(u64::MAX);
        let reason = RevokeReason::RevokedBy(acting.device.id);
        self.finish_revocation(revoked, reason, &acting.cause())
            .await;
        Ok(count)
    }

    /// Rule U: revokes every device of `user`, or every one but `keep`, on the
    /// application's word: after a password change or reset, or an administrator's
    /// decision. No device acts, so rule A does not apply. The events carry
    /// `RevokedByApplication { reason: "application" }`; name your own reason with
    /// [`revoke_all_because`](Self::revoke_all_because). Returns how many devices went.
    pub async fn revoke_all(&self, user: &UserId, keep: Option<DeviceId>) -> Result<u64, Error> {
        self.revoke_all_because(user, keep, "application").await
    }

    /// [`revoke_all`](Self::revoke_all) with the application's own short label for why
    /// (`"password_changed"`, `"administrator"`), carried by every revocation event and
    /// audit entry. The label is shown to people and written to logs: never a secret.
    pub async fn revoke_all_because(
        &self,
        user: &UserId,
        keep: Option<DeviceId>,
        reason: &'static str,
    ) -> Result<u64, Error> {
        let revoked = match keep {
            Some(keep) => self.inner.devices.delete_others(user, keep).await?,
            None => self.inner.devices.delete_all(user).await?,
        };
        let count = u64::try_from(revoked.len()).unwrap_or(u64::MAX);
        let reason = RevokeReason::RevokedByApplication { reason };
        // No device acts: the application's own decision.
        self.finish_revocation(revoked, reason, &Cause::default())
            .await;
        Ok(count)
    }
}
