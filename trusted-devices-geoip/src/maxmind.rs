//! Offline lookups in MaxMind DB files (GeoLite2, GeoIP2, DB-IP Lite; City, Country or ASN).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use maxminddb::Reader;
use serde::Deserialize;
use trusted_devices_core::{BoxError, Coordinates, DeviceInfo, Geolocator, Location, async_trait};

use crate::error::GeoipError;

/// A [`Geolocator`] reading MaxMind DB files held in memory: a City or Country database
/// and, optionally, a separate ASN database (GeoLite2 ships the network apart; DB-IP and
/// GeoIP2 Enterprise files may hold both). Never makes a network call.
///
/// The files are read once by [`open`](Self::open); [`reload`](Self::reload) reads them
/// again (after a weekly update, on `SIGHUP`) and swaps them in without a restart,
/// keeping the loaded ones if the new files are unreadable. Lookups are in-memory tree
/// walks, a few microseconds; opening reads the whole file, so call it at start-up or
/// from a blocking thread.
pub struct MaxMindDb {
    paths: Paths,
    loaded: RwLock<Arc<Loaded>>,
}

#[derive(Debug, Clone)]
struct Paths {
    location: PathBuf,
    asn: Option<PathBuf>,
}

struct Loaded {
    location: Reader<Vec<u8>>,
    asn: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for MaxMindDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaxMindDb")
            .field("location", &self.paths.location)
            .field("asn", &self.paths.asn)
            .finish()
    }
}

/// The parts of a City, Country or ASN record this library reads (GeoIP2 and DB-IP
/// layouts); anything missing stays unknown.
#[derive(Deserialize, Default)]
struct Record<'a> {
    #[serde(borrow, default)]
    country: Option<Place<'a>>,
    #[serde(borrow, default)]
    subdivisions: Option<Vec<Place<'a>>>,
    #[serde(borrow, default)]
    city: Option<Place<'a>>,
    #[serde(default)]
    location: Option<Point>,
    #[serde(default)]
    autonomous_system_number: Option<u32>,
}

#[derive(Deserialize, Default)]
struct Place<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize, Default)]
struct Names<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

#[derive(Deserialize, Default)]
struct Point {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

impl Place<'_> {
    fn name(&self) -> Option<String> {
        self.names
            .as_ref()
            .and_then(|names| names.en)
            .or(self.iso_code)
            .map(str::to_owned)
    }
}

impl MaxMindDb {
    /// Reads the City or Country database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoipError> {
        let paths = Paths {
            location: path.as_ref().to_path_buf(),
            asn: None,
        };
        let loaded = paths.load()?;
        Ok(Self {
            paths,
            loaded: RwLock::new(Arc::new(loaded)),
        })
    }

    /// Also reads the ASN database at `path`, for the network of each address (rule G's
    /// `new_network`) [default: none; a database holding both needs no second file].
    pub fn with_asn(mut self, path: impl AsRef<Path>) -> Result<Self, GeoipError> {
        self.paths.asn = Some(path.as_ref().to_path_buf());
        let loaded = self.paths.load()?;
        self.loaded = RwLock::new(Arc::new(loaded));
        Ok(self)
    }

    /// Reads the files again and uses them from the next lookup on. On an error the
    /// databases loaded before stay in use, and the error says which file failed.
    pub fn reload(&self) -> Result<(), GeoipError> {
        let fresh = Arc::new(self.paths.load()?);
        *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// The location of `ip`, merged from both databases: `None` when neither knows the
    /// address (private and reserved ranges, for instance).
    #[must_use]
    pub fn lookup(&self, ip: IpAddr) -> Option<Location> {
        let loaded = Arc::clone(&self.loaded.read().unwrap_or_else(PoisonError::into_inner));
        let mut location = read(&loaded.location, ip).unwrap_or_default();
        if let Some(asn) = loaded.asn.as_ref().and_then(|asn| read(asn, ip)) {
            location.asn = location.asn.or(asn.asn);
        }
        (!location.is_empty()).then_some(location)
    }
}

impl Paths {
    fn load(&self) -> Result<Loaded, GeoipError> {
        Ok(Loaded {
            location: open_reader(&self.location)?,
            asn: self.asn.as_deref().map(open_reader).transpose()?,
        })
    }
}

fn open_reader(path: &Path) -> Result<Reader<Vec<u8>>, GeoipError> {
    let bytes = std::fs::read(path).map_err(|source| GeoipError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = Reader::from_source(bytes).map_err(|source| GeoipError::Database {
        path: path.to_path_buf(),
        source,
    })?;
    // A truncated or corrupt file can have valid metadata: walk it once now rather than
    // fail on lookups later.
    reader.verify().map_err(|source| GeoipError::Database {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(reader)
}

/// What one database says of `ip`; `None` for no record or a record it cannot decode.
fn read(reader: &Reader<Vec<u8>>, ip: IpAddr) -> Option<Location> {
    let record: Record = reader.lookup(ip).ok()?.decode().ok()??;
    let country = record.country.as_ref();
    let region = record
        .subdivisions
        .as_ref()
        .and_then(|subdivisions| subdivisions.first())
        .and_then(Place::name);
    let coordinates = record
        .location
        .as_ref()
        .and_then(|point| Coordinates::new(point.latitude?, point.longitude?));
    Some(Location {
        country: country.and_then(Place::name),
        region,
        city: record.city.as_ref().and_then(Place::name),
        country_code: country
            .and_then(|country| country.iso_code)
            .map(str::to_ascii_uppercase),
        asn: record.autonomous_system_number,
        coordinates,
    })
}

#[async_trait]
impl Geolocator for MaxMindDb {
    async fn locate(&self, login: &DeviceInfo) -> Result<Option<Location>, BoxError> {
        Ok(login.ip.and_then(|ip| self.lookup(ip)))
    }
}
