use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a device logged in from, as a geolocator saw its address. Every part is optional.
///
/// The device JSON of SPEC §6 shows `{country, region, city}`; the network and the
/// coordinates are kept for rule G's risk signals (`new_network`, `impossible_travel`) and
/// stored with the device, never shown by the library's routes.
///
/// ```
/// use trusted_devices_core::Location;
/// let lisbon = Location {
///     country: Some("Portugal".into()),
///     country_code: Some("PT".into()),
///     city: Some("Lisbon".into()),
///     ..Location::default()
/// };
/// assert_eq!(lisbon.to_string(), "Lisbon, Portugal");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Country name (or its ISO 3166-1 alpha-2 code, when that is all the geolocator gives).
    pub country: Option<String>,
    /// Region or state.
    pub region: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code, upper case: what `new_country` compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// The autonomous system (network) the address belongs to: what `new_network` compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Approximate coordinates of the address: what `impossible_travel` measures from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<Coordinates>,
}

impl Location {
    /// A location with only these three parts (the SPEC §2 shape).
    #[must_use]
    pub fn new(country: Option<String>, region: Option<String>, city: Option<String>) -> Self {
        Self {
            country,
            region,
            city,
            ..Self::default()
        }
    }

    /// The country code, else the country as given, for comparing two locations' countries.
    #[must_use]
    pub fn country_key(&self) -> Option<&str> {
        self.country_code.as_deref().or(self.country.as_deref())
    }

    /// Whether no part is known.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// "Lisbon, Portugal": the city (or else the region) and the country, as known.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = self.city.as_deref().or(self.region.as_deref());
        let country = self.country.as_deref().or(self.country_code.as_deref());
        match (place, country) {
            (Some(place), Some(country)) => write!(f, "{place}, {country}"),
            (Some(only), None) | (None, Some(only)) => f.write_str(only),
            (None, None) => f.write_str("an unknown place"),
        }
    }
}

/// A point on the Earth, in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    /// Latitude, −90 to 90.
    pub latitude: f64,
    /// Longitude, −180 to 180.
    pub longitude: f64,
}

impl Coordinates {
    /// Mean Earth radius (IUGG), for the great-circle distance.
    const EARTH_RADIUS_KM: f64 = 6_371.008_8;

    /// Coordinates in range, else `None` (a geolocator's or a header's bad value).
    #[must_use]
    pub fn new(latitude: f64, longitude: f64) -> Option<Self> {
        let valid = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
        valid.then_some(Self {
            latitude,
            longitude,
        })
    }

    /// The great-circle (haversine) distance to `other`, in kilometres.
    #[must_use]
    pub fn distance_km(&self, other: &Self) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let d_lat = lat2 - lat1;
        let d_lon = (other.longitude - self.longitude).to_radians();
        let a = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
        2.0 * Self::EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lisbon_to_paris_is_about_1450_km() {
        let lisbon = Coordinates::new(38.72, -9.14).unwrap_or(Coordinates {
            latitude: 0.0,
            longitude: 0.0,
        });
        let paris = Coordinates::new(48.86, 2.35).unwrap_or(lisbon);
        let distance = lisbon.distance_km(&paris);
        assert!((1_440.0..1_460.0).contains(&distance), "{distance}");
        assert!(lisbon.distance_km(&lisbon) < 1e-9);
    }

    #[test]
    fn coordinates_out_of_range_are_refused() {
        assert!(Coordinates::new(91.0, 0.0).is_none());
        assert!(Coordinates::new(0.0, -180.5).is_none());
        assert!(Coordinates::new(f64::NAN, 0.0).is_none());
    }

    #[test]
    fn display_names_the_place_and_the_country_as_known() {
        let mut location = Location::new(Some("Portugal".into()), None, Some("Lisbon".into()));
        assert_eq!(location.to_string(), "Lisbon, Portugal");
        location.city = None;
        location.region = Some("Lisbon District".into());
        assert_eq!(location.to_string(), "Lisbon District, Portugal");
        let code_only = Location {
            country_code: Some("PT".into()),
            ..Location::default()
        };
        assert_eq!(code_only.to_string(), "PT");
        assert_eq!(code_only.country_key(), Some("PT"));
    }
}
