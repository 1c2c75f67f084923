use serde::{Deserialize, Serialize};

/// Where a device logged in from, as a geolocator saw its address. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Country (ISO 3166-1 alpha-2 code or name, as the geolocator gives it).
    pub country: Option<String>,
    /// Region or state.
    pub region: Option<String>,
    /// City.
    pub city: Option<String>,
}
