//! Rule A: which device may delete or change which.
//!
//! Pure functions of the policy, the acting device, the target and `now`, public so that an
//! application can unit-test its policy without storage or a server.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{Device, DevicePatch};
use crate::error::Error;
use crate::policy::Policy;

/// The two kinds of action on another device, each with its switch, flag and delay.
#[derive(Clone, Copy)]
enum Action {
    Delete,
    Update,
}

impl Policy {
    /// May `acting` delete `target` at `now`?
    ///
    /// A device may always delete (log out) itself. For another device it needs
    /// `allow_global_delete`, its own `can_delete_other_devices`, and to be at least
    /// `delete_delay` old. Ownership is checked by the caller: a target of another user is
    /// `device_not_found` before this is asked.
    pub fn check_delete(
        &self,
        acting: &Device,
        target: &Device,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        if acting.id == target.id {
            return Ok(());
        }
        self.check_action_on_others(Action::Delete, acting, now)
    }

    /// May `acting` revoke every other device of its user at `now`? Follows the delete rule.
    pub fn check_revoke_others(&self, acting: &Device, now: DateTime<Utc>) -> Result<(), Error> {
        self.check_action_on_others(Action::Delete, acting, now)
    }

    /// May `acting` apply `patch` to `target` at `now`?
    ///
    /// A device may always change itself. For another device it needs `allow_global_update`,
    /// its own `can_update_other_devices`, and to be at least `update_delay` old. A patch
    /// that carries a permission flag for another device (granting or removing, even to the
    /// value it already has) needs the delete conditions as well: stripping the owner's
    /// rights harms as much as removing the owner's device. When both waits refuse, the
    /// longer one is answered. In every case no device may grant a flag it does not hold.
    pub fn check_update(
        &self,
        acting: &Device,
        target: &Device,
        patch: &DevicePatch,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        if acting.id != target.id {
            let update = self.check_action_on_others(Action::Update, acting, now);
            if patch.touches_permissions() {
                let delete = self.check_action_on_others(Action::Delete, acting, now);
                stricter(update, delete)?;
            } else {
                update?;
            }
        }
        check_no_escalation(acting, patch)
    }

    fn check_action_on_others(
        &self,
        action: Action,
        acting: &Device,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let (allowed, permitted, delay) = match action {
            Action::Delete => (
                self.allow_global_delete(),
                acting.can_delete_other_devices,
                self.delete_delay,
            ),
            Action::Update => (
                self.allow_global_update(),
                acting.can_update_other_devices,
                self.update_delay,
            ),
        };
        if !allowed {
            return Err(match action {
                Action::Delete => Error::GlobalDeleteDisabled,
                Action::Update => Error::GlobalUpdateDisabled,
            });
        }
        if !permitted {
            return Err(Error::PermissionDenied);
        }
        match seconds_until_old_enough(acting, delay, now) {
            0 => Ok(()),
            retry_after => Err(match action {
                Action::Delete => Error::DeleteTooSoon { retry_after },
                Action::Update => Error::UpdateTooSoon { retry_after },
            }),
        }
    }
}

/// Both conditions must hold: a refusal that waiting cannot cure (a switch, a flag) comes
/// first; of two waits, the longer one, so that `retry_after` is when the action really opens.
fn stricter(update: Result<(), Error>, delete: Result<(), Error>) -> Result<(), Error> {
    match (update, delete) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(error), Ok(())) | (Ok(()), Err(error)) => Err(error),
        (Err(update), Err(delete)) => {
            let wait = |error: &Error| error.retry_after().unwrap_or(u64::MAX);
            Err(if wait(&update) >= wait(&delete) {
                update
            } else {
                delete
            })
        }
    }
}

/// Seconds (rounded up) until `acting` is `delay` old; 0 once it is.
fn seconds_until_old_enough(acting: &Device, delay: TimeDelta, now: DateTime<Utc>) -> u64 {
    let old_enough_at = acting.created_at.checked_add_signed(delay);
    let Some(wait) = old_enough_at.map(|at| at - now) else {
        return u64::MAX;
    };
    if wait <= TimeDelta::zero() {
        return 0;
    }
    let whole = wait.num_seconds();
    let partial = wait.subsec_nanos() > 0;
    u64::try_from(whole).unwrap_or(0) + u64::from(partial)
}

/// No device may set a permission flag to `true` that it does not hold itself.
fn check_no_escalation(acting: &Device, patch: &DevicePatch) -> Result<(), Error> {
    let grants_delete = patch.can_delete_other_devices == Some(true);
    let grants_update = patch.can_update_other_devices == Some(true);
    if (grants_delete && !acting.can_delete_other_devices)
        || (grants_update && !acting.can_update_other_devices)
    {
        return Err(Error::PermissionDenied);
    }
    Ok(())
}
