//! The location a CDN in front of the application already worked out, from its headers.

use trusted_devices_core::{BoxError, Coordinates, DeviceInfo, Geolocator, Location, async_trait};

/// One CDN's header names; `None` where it sends no such header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Names {
    country: &'static str,
    region: Option<&'static str>,
    city: Option<&'static str>,
    latitude: Option<&'static str>,
    longitude: Option<&'static str>,
    asn: Option<&'static str>,
    /// Values are percent-encoded (Vercel's city).
    percent_encoded: bool,
}

const CLOUDFLARE: Names = Names {
    country: "cf-ipcountry",
    region: Some("cf-region"),
    city: Some("cf-ipcity"),
    latitude: Some("cf-iplatitude"),
    longitude: Some("cf-iplongitude"),
    asn: None,
    percent_encoded: false,
};

const CLOUDFRONT: Names = Names {
    country: "cloudfront-viewer-country",
    region: Some("cloudfront-viewer-country-region-name"),
    city: Some("cloudfront-viewer-city"),
    latitude: Some("cloudfront-viewer-latitude"),
    longitude: Some("cloudfront-viewer-longitude"),
    asn: Some("cloudfront-viewer-asn"),
    percent_encoded: false,
};

const VERCEL: Names = Names {
    country: "x-vercel-ip-country",
    region: Some("x-vercel-ip-country-region"),
    city: Some("x-vercel-ip-city"),
    latitude: Some("x-vercel-ip-latitude"),
    longitude: Some("x-vercel-ip-longitude"),
    asn: None,
    percent_encoded: true,
};

/// A [`Geolocator`] reading the country, region, city and coordinates a CDN adds to each
/// request (Cloudflare, Amazon CloudFront, Vercel), never the network.
///
/// It reads only [`DeviceInfo::proxy_geo_headers`], which the web adapters fill only when
/// the request came from a trusted proxy (`TrustedProxies`): a client talking to the
/// server directly cannot choose its own location. Put it before an offline database in
/// [`Geolocators`](trusted_devices_core::Geolocators): the CDN saw the client's own
/// address.
///
/// ```
/// use trusted_devices_core::DeviceInfo;
/// use trusted_devices_geoip::CdnHeaders;
///
/// let mut login = DeviceInfo::new();
/// login.proxy_geo_headers = vec![("cf-ipcountry", "PT".into()), ("cf-ipcity", "Lisbon".into())];
/// let location = CdnHeaders::any().read(&login).unwrap();
/// assert_eq!(location.to_string(), "Lisbon, PT");
/// ```
#[derive(Debug, Clone)]
pub struct CdnHeaders {
    cdns: Vec<Names>,
}

impl CdnHeaders {
    /// Cloudflare's `CF-IPCountry` (and its visitor-location headers, when that managed
    /// transform is on).
    #[must_use]
    pub fn cloudflare() -> Self {
        Self {
            cdns: vec![CLOUDFLARE],
        }
    }

    /// Amazon CloudFront's `CloudFront-Viewer-*` headers (enabled in an origin request
    /// policy).
    #[must_use]
    pub fn cloudfront() -> Self {
        Self {
            cdns: vec![CLOUDFRONT],
        }
    }

    /// Vercel's `X-Vercel-IP-*` headers.
    #[must_use]
    pub fn vercel() -> Self {
        Self { cdns: vec![VERCEL] }
    }

    /// Whichever of the three a request carries, tried in the order above.
    #[must_use]
    pub fn any() -> Self {
        Self {
            cdns: vec![CLOUDFLARE, CLOUDFRONT, VERCEL],
        }
    }

    /// The location in `login`'s trusted proxy headers, if one of the CDNs set a country.
    #[must_use]
    pub fn read(&self, login: &DeviceInfo) -> Option<Location> {
        self.cdns.iter().find_map(|names| read_cdn(names, login))
    }
}

fn read_cdn(names: &Names, login: &DeviceInfo) -> Option<Location> {
    let text = |name: Option<&'static str>| {
        let value = login.proxy_geo_header(name?)?.trim();
        let value = if names.percent_encoded {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .ok()?
                .into_owned()
        } else {
            value.to_owned()
        };
        (!value.is_empty()).then_some(value)
    };
    let number = |name| text(name)?.parse::<f64>().ok();
    let code = text(Some(names.country))?.to_ascii_uppercase();
    // Cloudflare: XX is "no country", T1 is Tor; neither is a place.
    if code == "XX" || code == "T1" || code.len() != 2 {
        return None;
    }
    Some(Location {
        country: Some(code.clone()),
        region: text(names.region),
        city: text(names.city),
        country_code: Some(code),
        asn: text(names.asn).and_then(|asn| asn.parse().ok()),
        coordinates: number(names.latitude)
            .zip(number(names.longitude))
            .and_then(|(latitude, longitude)| Coordinates::new(latitude, longitude)),
    })
}

#[async_trait]
impl Geolocator for CdnHeaders {
    async fn locate(&self, login: &DeviceInfo) -> Result<Option<Location>, BoxError> {
        Ok(self.read(login))
    }
}
