use std::net::IpAddr;

use crate::domain::{DeviceName, Metadata};

/// What a login knows of the client: its User-Agent, address, the name it asked for and the
/// application's metadata.
///
/// ```
/// use trusted_devices_core::DeviceInfo;
/// let info = DeviceInfo::new()
///     .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
///     .ip("203.0.113.7".parse().unwrap())
///     .requested_name("  Work laptop ");
/// assert_eq!(info.device_name().as_str(), "Work laptop");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceInfo {
    /// The raw User-Agent header (cut to 512 bytes when stored).
    pub user_agent: Option<String>,
    /// The client's address.
    pub ip: Option<IpAddr>,
    /// The raw `X-Device-Name` header.
    pub requested_name: Option<String>,
    /// Application context to store with the device.
    pub metadata: Metadata,
}

impl DeviceInfo {
    /// Nothing known yet (default: no User-Agent, no address, no name, empty metadata).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the User-Agent (default: none).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets the client address (default: none).
    #[must_use]
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Sets the requested name, the raw `X-Device-Name` header (default: none).
    #[must_use]
    pub fn requested_name(mut self, name: impl Into<String>) -> Self {
        self.requested_name = Some(name.into());
        self
    }

    /// Sets the metadata (default: an empty object).
    #[must_use]
    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// The name the device gets: the requested name trimmed and cut to 100 characters, else
    /// one derived from the User-Agent ("Firefox on Linux"), else "Unknown device".
    #[must_use]
    pub fn device_name(&self) -> DeviceName {
        self.requested_name
            .as_deref()
            .and_then(DeviceName::from_header_lossy)
            .or_else(|| {
                self.user_agent
                    .as_deref()
                    .and_then(super::name_from_user_agent)
            })
            .unwrap_or_else(DeviceName::unknown)
    }
}
