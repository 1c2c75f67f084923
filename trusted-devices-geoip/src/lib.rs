//! Where logins come from (SPEC §4 G), for
//! [`trusted-devices-core`](trusted_devices_core): geolocators that never make a network
//! call.
//!
//! - [`MaxMindDb`]: lookups in MaxMind DB files held in memory (GeoLite2 or GeoIP2 City or
//!   Country, DB-IP Lite, and an ASN file for the network), reloadable without a restart.
//! - [`CdnHeaders`]: the country, region and city a CDN (Cloudflare, CloudFront, Vercel)
//!   adds to requests, believed only from a trusted proxy.
//! - [`writer`]: builds small database files, for tests that must not download one.
//!
//! Chain them with the core's [`Geolocators`](trusted_devices_core::Geolocators) and bound
//! them with the service's geolocation timeout: a slow or failing lookup leaves the
//! device's location empty and never fails a login.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use trusted_devices_core::{DeviceInfo, Geolocators, KeyRing, SigningKey, Sleep, TrustedDevices, UserId};
//! use trusted_devices_geoip::writer::{MmdbWriter, Value};
//! use trusted_devices_geoip::{CdnHeaders, MaxMindDb};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // A tiny database for the example; in production, GeoLite2-City.mmdb.
//! let mut writer = MmdbWriter::new("Example-City");
//! let names = |name: &str| Value::map([("names", Value::map([("en", name.into())]))]);
//! writer.insert(
//!     "203.0.113.0/24".parse()?,
//!     Value::map([("country", names("Portugal")), ("city", names("Lisbon"))]),
//! );
//! let path = std::env::temp_dir().join(format!("td-geoip-doc-{}.mmdb", std::process::id()));
//! std::fs::write(&path, writer.to_bytes())?;
//!
//! let geolocators = Geolocators::new().then(CdnHeaders::any()).then(MaxMindDb::open(&path)?);
//! let keys = KeyRing::new(SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?);
//! let service = TrustedDevices::builder(keys)
//!     .geolocator(Arc::new(geolocators))
//!     .geolocation_timeout(Duration::from_millis(50), Arc::new(|d| Box::pin(tokio::time::sleep(d)) as Sleep))
//!     .build();
//! let login = DeviceInfo::new().ip("203.0.113.9".parse()?);
//! let outcome = service.login(UserId::new("alice")?, login).await?;
//! assert_eq!(outcome.device.location.unwrap().to_string(), "Lisbon, Portugal");
//! # std::fs::remove_file(&path)?;
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(demo()).unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cdn;
mod error;
mod maxmind;
pub mod writer;

pub use cdn::CdnHeaders;
pub use error::GeoipError;
pub use maxmind::MaxMindDb;
pub use maxminddb;
