//! Rule G's geolocation on databases this test writes itself (never downloaded): IPv4,
//! IPv6, unknown addresses, a separate ASN file, corrupt files, reloading, CDN headers,
//! chains, and a slow geolocator under the service's timeout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use trusted_devices_core::{
    BoxError, Coordinates, DeviceInfo, Geolocator, Geolocators, KeyRing, Location, SigningKey,
    Sleep, TrustedDevices, UserId, async_trait,
};
use trusted_devices_geoip::writer::{MmdbWriter, Value};
use trusted_devices_geoip::{CdnHeaders, GeoipError, MaxMindDb};

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "td-geoip-{}-{name}-{:?}.mmdb",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }

    fn overwrite(&self, bytes: &[u8]) {
        std::fs::write(&self.0, bytes).unwrap();
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn names(name: &str) -> Value {
    Value::map([("names", Value::map([("en", name.into())]))])
}

fn city(country: &str, code: &str, region: &str, city: &str, lat: f64, lon: f64) -> Value {
    Value::map([
        (
            "country",
            Value::map([
                ("iso_code", code.into()),
                ("names", Value::map([("en", country.into())])),
            ]),
        ),
        ("subdivisions", Value::Array(vec![names(region)])),
        ("city", names(city)),
        (
            "location",
            Value::map([
                ("latitude", Value::Double(lat)),
                ("longitude", Value::Double(lon)),
            ]),
        ),
    ])
}

fn lisbon() -> Value {
    city("Portugal", "PT", "Lisbon", "Lisbon", 38.72, -9.14)
}

fn paris() -> Value {
    city("France", "FR", "Île-de-France", "Paris", 48.86, 2.35)
}

fn city_database(value: Value) -> Vec<u8> {
    let mut writer = MmdbWriter::new("Test-City");
    writer.insert("203.0.113.0/24".parse().unwrap(), value.clone());
    writer.insert("2001:db8:1::/48".parse().unwrap(), value);
    writer.insert("198.51.100.0/24".parse().unwrap(), paris());
    writer.to_bytes()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn rule_g_ipv4_lookup_reads_country_region_city_and_coordinates() {
    let file = TempFile::new("v4", &city_database(lisbon()));
    let db = MaxMindDb::open(&file.0).unwrap();
    let location = db.lookup(ip("203.0.113.77")).unwrap();
    assert_eq!(location.country.as_deref(), Some("Portugal"));
    assert_eq!(location.country_code.as_deref(), Some("PT"));
    assert_eq!(location.region.as_deref(), Some("Lisbon"));
    assert_eq!(location.city.as_deref(), Some("Lisbon"));
    assert_eq!(location.coordinates, Coordinates::new(38.72, -9.14));
    assert_eq!(location.asn, None);
    assert_eq!(location.to_string(), "Lisbon, Portugal");
    let other = db.lookup(ip("198.51.100.1")).unwrap();
    assert_eq!(other.city.as_deref(), Some("Paris"));
}

#[test]
fn rule_g_ipv6_lookup_reads_the_same_record() {
    let file = TempFile::new("v6", &city_database(lisbon()));
    let db = MaxMindDb::open(&file.0).unwrap();
    let location = db.lookup(ip("2001:db8:1::42")).unwrap();
    assert_eq!(location.city.as_deref(), Some("Lisbon"));
}

#[test]
fn rule_g_an_unknown_address_has_no_location() {
    let file = TempFile::new("unknown", &city_database(lisbon()));
    let db = MaxMindDb::open(&file.0).unwrap();
    assert_eq!(db.lookup(ip("192.0.2.1")), None);
    assert_eq!(db.lookup(ip("10.0.0.1")), None);
    assert_eq!(db.lookup(ip("2001:db8:2::1")), None);
}

#[test]
fn rule_g_a_separate_asn_database_adds_the_network() {
    let cities = TempFile::new("asn-city", &city_database(lisbon()));
    let mut writer = MmdbWriter::new("Test-ASN");
    writer.insert(
        "203.0.113.0/25".parse().unwrap(),
        Value::map([
            ("autonomous_system_number", Value::Uint32(64_500)),
            ("autonomous_system_organization", "Example Telecom".into()),
        ]),
    );
    let networks = TempFile::new("asn", &writer.to_bytes());
    let db = MaxMindDb::open(&cities.0)
        .unwrap()
        .with_asn(&networks.0)
        .unwrap();
    let inside = db.lookup(ip("203.0.113.5")).unwrap();
    assert_eq!(inside.asn, Some(64_500));
    assert_eq!(inside.city.as_deref(), Some("Lisbon"));
    let outside = db.lookup(ip("203.0.113.200")).unwrap();
    assert_eq!(outside.asn, None);
}

#[test]
fn rule_g_corrupt_and_missing_files_are_typed_errors() {
    let garbage = TempFile::new("garbage", b"this is not a MaxMind DB file at all");
    let error = MaxMindDb::open(&garbage.0).unwrap_err();
    assert!(matches!(error, GeoipError::Database { .. }), "{error}");
    assert!(std::error::Error::source(&error).is_some());

    let whole = city_database(lisbon());
    let truncated = TempFile::new("truncated", &whole[..whole.len() / 2]);
    assert!(MaxMindDb::open(&truncated.0).is_err());

    let missing = std::env::temp_dir().join("td-geoip-no-such-file.mmdb");
    let error = MaxMindDb::open(&missing).unwrap_err();
    assert!(matches!(error, GeoipError::Read { .. }), "{error}");
    assert!(error.to_string().contains("td-geoip-no-such-file.mmdb"));
}

#[test]
fn rule_g_reload_swaps_the_database_and_keeps_it_when_the_new_file_is_bad() {
    let file = TempFile::new("reload", &city_database(lisbon()));
    let db = MaxMindDb::open(&file.0).unwrap();
    let city = |db: &MaxMindDb| db.lookup(ip("203.0.113.9")).and_then(|l| l.city);
    assert_eq!(city(&db).as_deref(), Some("Lisbon"));

    file.overwrite(&city_database(paris()));
    assert_eq!(
        city(&db).as_deref(),
        Some("Lisbon"),
        "loaded once, not per lookup"
    );
    db.reload().unwrap();
    assert_eq!(city(&db).as_deref(), Some("Paris"));

    file.overwrite(b"corrupt");
    assert!(db.reload().is_err());
    assert_eq!(
        city(&db).as_deref(),
        Some("Paris"),
        "a failed reload keeps the old data"
    );
}

fn with_headers(headers: &[(&'static str, &str)]) -> DeviceInfo {
    let mut login = DeviceInfo::new();
    login.proxy_geo_headers = headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    login
}

#[test]
fn rule_g_cdn_headers_of_each_cdn() {
    let cloudflare = with_headers(&[
        ("cf-ipcountry", "pt"),
        ("cf-ipcity", "Lisbon"),
        ("cf-region", "Lisbon"),
        ("cf-iplatitude", "38.72"),
        ("cf-iplongitude", "-9.14"),
    ]);
    let location = CdnHeaders::cloudflare().read(&cloudflare).unwrap();
    assert_eq!(location.country_code.as_deref(), Some("PT"));
    assert_eq!(location.city.as_deref(), Some("Lisbon"));
    assert_eq!(location.coordinates, Coordinates::new(38.72, -9.14));

    let cloudfront = with_headers(&[
        ("cloudfront-viewer-country", "FR"),
        ("cloudfront-viewer-city", "Paris"),
        ("cloudfront-viewer-asn", "3215"),
    ]);
    let location = CdnHeaders::cloudfront().read(&cloudfront).unwrap();
    assert_eq!(location.city.as_deref(), Some("Paris"));
    assert_eq!(location.asn, Some(3215));
    assert_eq!(CdnHeaders::cloudflare().read(&cloudfront), None);

    let vercel = with_headers(&[
        ("x-vercel-ip-country", "BR"),
        ("x-vercel-ip-city", "S%C3%A3o%20Paulo"),
    ]);
    let location = CdnHeaders::any().read(&vercel).unwrap();
    assert_eq!(location.city.as_deref(), Some("São Paulo"));
}

#[test]
fn rule_g_cdn_headers_without_a_place_or_with_bad_values_say_nothing_wrong() {
    for code in ["XX", "T1", "", "PRT"] {
        assert_eq!(
            CdnHeaders::any().read(&with_headers(&[("cf-ipcountry", code)])),
            None,
            "{code}"
        );
    }
    let bad_coordinates = with_headers(&[
        ("cf-ipcountry", "PT"),
        ("cf-iplatitude", "123"),
        ("cf-iplongitude", "oops"),
    ]);
    let location = CdnHeaders::any().read(&bad_coordinates).unwrap();
    assert_eq!(location.coordinates, None);
    assert_eq!(CdnHeaders::any().read(&DeviceInfo::new()), None);
}

fn service(geolocator: Arc<dyn Geolocator>) -> TrustedDevices {
    let keys = KeyRing::new(SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap());
    TrustedDevices::builder(keys)
        .geolocator(geolocator)
        .geolocation_timeout(
            Duration::from_millis(200),
            Arc::new(|d| Box::pin(tokio::time::sleep(d)) as Sleep),
        )
        .build()
}

#[tokio::test]
async fn rule_g_geolocators_are_tried_in_order_cdn_then_database() {
    let file = TempFile::new("chain", &city_database(lisbon()));
    let chain = Geolocators::new()
        .then(CdnHeaders::any())
        .then(MaxMindDb::open(&file.0).unwrap());
    let service = service(Arc::new(chain));
    let alice = || UserId::new("alice").unwrap();

    let by_database = DeviceInfo::new().ip(ip("203.0.113.9"));
    let device = service.login(alice(), by_database).await.unwrap().device;
    assert_eq!(device.location.unwrap().city.as_deref(), Some("Lisbon"));

    let mut by_cdn = with_headers(&[("cf-ipcountry", "FR"), ("cf-ipcity", "Paris")]);
    by_cdn.ip = Some(ip("203.0.113.9"));
    let device = service.login(alice(), by_cdn).await.unwrap().device;
    assert_eq!(device.location.unwrap().city.as_deref(), Some("Paris"));

    let nowhere = DeviceInfo::new().ip(ip("192.0.2.1"));
    let device = service.login(alice(), nowhere).await.unwrap().device;
    assert_eq!(device.location, None);
}

/// Never answers.
struct Hanging;

#[async_trait]
impl Geolocator for Hanging {
    async fn locate(&self, _: &DeviceInfo) -> Result<Option<Location>, BoxError> {
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn rule_g_a_slow_geolocator_is_abandoned_at_the_timeout_and_the_login_succeeds() {
    let file = TempFile::new("slow", &city_database(lisbon()));
    let chain = Geolocators::new()
        .then(Hanging)
        .then(MaxMindDb::open(&file.0).unwrap());
    let service = service(Arc::new(chain));
    let started = tokio::time::Instant::now();
    let login = DeviceInfo::new().ip(ip("203.0.113.9"));
    let device = service
        .login(UserId::new("alice").unwrap(), login)
        .await
        .unwrap()
        .device;
    assert_eq!(device.location, None);
    assert_eq!(started.elapsed(), Duration::from_millis(200));
}
