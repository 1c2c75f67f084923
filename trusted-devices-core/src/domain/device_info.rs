use std::net::IpAddr;

use crate::domain::{DeviceName, Metadata, Software};

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
    /// The raw `Sec-CH-UA` header (a browser's brands), if sent.
    pub client_hint_brands: Option<String>,
    /// The raw `Sec-CH-UA-Platform` header, if sent.
    pub client_hint_platform: Option<String>,
    /// The geolocation headers of [`PROXY_GEO_HEADERS`](crate::PROXY_GEO_HEADERS) the
    /// request carried, by lower-case name: filled by
    /// [`DeviceApi::login_info`](crate::http::DeviceApi::login_info) only when the request
    /// came through a trusted proxy, since anyone else can send them (default: none).
    pub proxy_geo_headers: Vec<(&'static str, String)>,
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

    /// The client's browser and OS: the client hints where sent, else the User-Agent.
    #[must_use]
    pub fn software(&self) -> Software {
        Software::from_login(
            self.user_agent.as_deref().unwrap_or_default(),
            self.client_hint_brands.as_deref(),
            self.client_hint_platform.as_deref(),
        )
    }

    /// A geolocation header a trusted proxy set, by lower-case name.
    #[must_use]
    pub fn proxy_geo_header(&self, name: &str) -> Option<&str> {
        self.proxy_geo_headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The name the device gets: the requested name trimmed and cut to 100 characters, else
    /// one derived from the browser and OS ("Firefox on Linux"), else "Unknown device".
    #[must_use]
    pub fn device_name(&self) -> DeviceName {
        self.device_name_for(&self.software())
    }

    /// [`device_name`](Self::device_name) with the [`software`](Self::software) already
    /// read (a login needs both, and parsing the User-Agent is its costliest step).
    pub(crate) fn device_name_for(&self, software: &Software) -> DeviceName {
        self.requested_name
            .as_deref()
            .and_then(DeviceName::from_header_lossy)
            .or_else(|| {
                let name = software.describe()?;
                DeviceName::from_header_lossy(&name)
            })
            .unwrap_or_else(DeviceName::unknown)
    }
}
