//! The domain's records and their validated building blocks.

mod device;
mod device_id;
mod device_info;
mod device_name;
mod key_thumbprint;
mod location;
mod metadata;
mod patch;
mod software;
mod user_agent;
mod user_id;

pub use device::Device;
pub use device_id::DeviceId;
pub use device_info::DeviceInfo;
pub use device_name::DeviceName;
pub use key_thumbprint::Thumbprint;
pub use location::{Coordinates, Location};
pub use metadata::Metadata;
pub use patch::DevicePatch;
pub use software::Software;
pub use user_agent::{USER_AGENT_MAX_BYTES, name_from_user_agent, truncate_user_agent};
pub use user_id::UserId;

/// Cuts `text` to at most `max` bytes without splitting a character.
pub(crate) fn truncate_to_bytes(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}
