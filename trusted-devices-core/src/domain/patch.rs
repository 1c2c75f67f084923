use crate::domain::DeviceName;

/// A change to a device: each `Some` field is set, each `None` left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevicePatch {
    /// A new display name.
    pub name: Option<DeviceName>,
    /// A new value of the target's `can_delete_other_devices`.
    pub can_delete_other_devices: Option<bool>,
    /// A new value of the target's `can_update_other_devices`.
    pub can_update_other_devices: Option<bool>,
}

impl DevicePatch {
    /// Whether the patch changes a permission flag (and so is more than a rename).
    #[must_use]
    pub fn touches_permissions(&self) -> bool {
        self.can_delete_other_devices.is_some() || self.can_update_other_devices.is_some()
    }
}
