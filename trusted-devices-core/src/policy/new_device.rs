//! What a new device looks like under a policy: its permission flags and deadlines.

use chrono::{DateTime, Utc};

use crate::domain::{Device, DeviceId, DeviceName, Metadata, UserId};
use crate::policy::Policy;

impl Policy {
    /// A device as a login at `now` under this policy creates it, before anything the
    /// client says: named "Unknown device", with no User-Agent, address, location or
    /// metadata, the policy's default permission flags, and its idle and absolute
    /// deadlines. Logins build their devices with it; tests and repositories can too,
    /// setting the public fields they care about:
    ///
    /// ```
    /// use trusted_devices_core::{DeviceId, DeviceName, Policy, SeededRandom, UserId};
    /// use trusted_devices_core::chrono::{TimeDelta, Utc};
    ///
    /// let now = Utc::now();
    /// let id = DeviceId::generate(now, &SeededRandom::new(1));
    /// let mut phone = Policy::default().new_device(id, UserId::new("alice")?, now);
    /// phone.name = DeviceName::new("Alice's phone")?;
    /// assert!(phone.can_delete_other_devices);
    /// assert_eq!(phone.idle_expires_at, now + TimeDelta::days(30));
    /// # Ok::<(), trusted_devices_core::InputError>(())
    /// ```
    #[must_use]
    pub fn new_device(&self, id: DeviceId, user_id: UserId, now: DateTime<Utc>) -> Device {
        Device {
            id,
            user_id,
            name: DeviceName::unknown(),
            user_agent: String::new(),
            ip: None,
            last_ip: None,
            location: None,
            created_at: now,
            last_seen_at: now,
            can_delete_other_devices: self.default_can_delete_other_devices(),
            can_update_other_devices: self.default_can_update_other_devices(),
            metadata: Metadata::default(),
            idle_expires_at: now + self.refresh_idle_timeout,
            session_expires_at: self.session_max_lifetime.map(|life| now + life),
            dpop_jkt: None,
        }
    }
}
