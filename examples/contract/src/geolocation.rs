//! Rule G over HTTP: a device's location from `TD_GEOIP_DB` (a database this test writes),
//! a CDN's headers believed only from a trusted proxy, and the "new sign-in" message.

use serde_json::Value;
use trusted_devices_geoip::writer::{MmdbWriter, Value as Mmdb};

use crate::{Client, Server};

const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// A City database placing loopback in Lisbon, written next to the test's other files.
fn lisbon_database() -> std::path::PathBuf {
    let names = |name: &str| Mmdb::map([("names", Mmdb::map([("en", name.into())]))]);
    let mut writer = MmdbWriter::new("Contract-City");
    writer.insert(
        "127.0.0.0/8".parse().unwrap(),
        Mmdb::map([
            (
                "country",
                Mmdb::map([
                    ("iso_code", "PT".into()),
                    ("names", Mmdb::map([("en", "Portugal".into())])),
                ]),
            ),
            ("subdivisions", Mmdb::Array(vec![names("Lisbon")])),
            ("city", names("Lisbon")),
            (
                "location",
                Mmdb::map([
                    ("latitude", Mmdb::Double(38.72)),
                    ("longitude", Mmdb::Double(-9.14)),
                ]),
            ),
        ]),
    );
    let path = std::env::temp_dir().join(format!(
        "td-contract-geoip-{}-{:?}.mmdb",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, writer.to_bytes()).unwrap();
    path
}

/// The `location` of the acting device, as `GET /devices` shows it.
fn current_location(client: &Client, token: &str) -> Value {
    let devices = client.get("/devices", Some(token));
    assert_eq!(devices.status, 200);
    let list = devices.body.as_array().cloned().unwrap_or_default();
    let current = list
        .iter()
        .find(|d| d["current"] == true)
        .cloned()
        .unwrap_or_default();
    current["location"].clone()
}

fn login(client: &Client, headers: &[(&str, &str)]) -> String {
    let reply = client.login(("alice", "alice-password"), headers);
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.text("access_token")
}

/// Locations from the database and from trusted CDN headers, and the risk message.
pub fn geolocation_and_risk_signals(binary: &str) {
    let database = lisbon_database();
    let path = database.display().to_string();
    let server = Server::start(
        binary,
        &[
            ("TD_GEOIP_DB", &path),
            ("TD_TRUSTED_PROXIES", "127.0.0.1"),
            ("TD_CDN", "cloudflare"),
            ("RUST_LOG", "info"),
        ],
    );
    let client = Client::new(&server.base);

    let token = login(&client, &[("user-agent", FIREFOX_LINUX)]);
    let location = current_location(&client, &token);
    assert_eq!(
        location,
        serde_json::json!({"country": "Portugal", "region": "Lisbon", "city": "Lisbon"}),
        "the device JSON shows {{country, region, city}} and nothing the signals use"
    );
    let alert = server.wait_for_log("new sign-in from Lisbon, Portugal on Firefox / Linux");
    assert!(alert.is_some(), "{:#?}", server.log_lines());
    let created = server
        .wait_for_log("login created a device")
        .unwrap_or_default();
    assert!(
        created.contains("new_ip") && created.contains("new_country"),
        "{created}"
    );

    // From the trusted proxy, the CDN's own view wins over the database.
    let cdn = [
        ("user-agent", FIREFOX_LINUX),
        ("cf-ipcountry", "FR"),
        ("cf-ipcity", "Paris"),
    ];
    let token = login(&client, &cdn);
    assert_eq!(current_location(&client, &token)["city"], "Paris");
    let travel = server.wait_for_log("impossible_travel");
    assert!(
        travel.is_none(),
        "no coordinates from these headers: {travel:?}"
    );
    drop(server);

    // Issue 23's sixth finding: behind a pass-through proxy, with no CDN named, a
    // client-sent CF-IPCountry / cf-ipcity became the device's location. Only the CDN the
    // operator names (`TD_CDN`, default none) is believed.
    let server = Server::start(
        binary,
        &[("TD_GEOIP_DB", &path), ("TD_TRUSTED_PROXIES", "127.0.0.1")],
    );
    let client = Client::new(&server.base);
    let token = login(&client, &cdn);
    assert_eq!(current_location(&client, &token)["city"], "Lisbon");
    drop(server);
    let server = Server::start(
        binary,
        &[
            ("TD_GEOIP_DB", &path),
            ("TD_TRUSTED_PROXIES", "127.0.0.1"),
            ("TD_CDN", "vercel"),
        ],
    );
    let client = Client::new(&server.base);
    let token = login(&client, &cdn);
    assert_eq!(
        current_location(&client, &token)["city"],
        "Lisbon",
        "Cloudflare's headers are not Vercel's"
    );
    drop(server);

    // A client that is no trusted proxy cannot choose its location.
    let server = Server::start(binary, &[("TD_GEOIP_DB", &path)]);
    let client = Client::new(&server.base);
    let token = login(&client, &cdn);
    assert_eq!(current_location(&client, &token)["city"], "Lisbon");
    drop(server);
    let _ = std::fs::remove_file(&database);
}

/// A database that cannot be read stops the server with one line naming the setting.
pub fn bad_geoip_database(binary: &str) {
    let (status, stderr) =
        crate::start_failure(binary, &[("TD_GEOIP_DB", "/nonexistent/city.mmdb")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TD_GEOIP_DB"), "{stderr}");
}
