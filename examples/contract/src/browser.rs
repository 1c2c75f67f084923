//! The "Your devices" page in a real headless Chromium, driven through chromedriver
//! (WebDriver): what a person does, step by step. Without Chromium the test says loudly
//! that it was skipped, and fails when `CI` is set. On failure a screenshot is saved next
//! to the test binary's target folder and named in the panic.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use serde_json::json;

use crate::{ALICE, Client, Server};

/// How long any one step may wait for the page.
const STEP: Duration = Duration::from_secs(10);
/// The delete delay the page's server runs with: long enough to see the refusal, short
/// enough to wait out.
const DELETE_DELAY_SECONDS: u64 = 3;

type Step<T> = Result<T, String>;

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |error| format!("{what}: {error}")
}

/// chromedriver on a free loopback port; killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Option<Self> {
        let program = ["chromedriver", "/usr/bin/chromedriver"]
            .into_iter()
            .find(|program| Command::new(program).arg("--version").output().is_ok())?;
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + STEP;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { child, url })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium_available() -> bool {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|program| Command::new(program).arg("--version").output().is_ok())
}

/// A page on another loopback port that posts a form to the devices API at once: what a
/// malicious site open in the same browser would do.
fn start_foreign_site(target: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let page = format!(
        "<!doctype html><form id=f method=post action=\"{target}/devices/revoke-others\">\
         </form><script>document.getElementById('f').submit()</script>"
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4).flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut stream = &stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/")
}

/// Runs the page test against `binary`.
pub fn your_devices_page(binary: &str) {
    if !browser_available("your_devices_page") {
        return;
    }
    let driver = Driver::start().expect("chromedriver starts");
    let delay = format!("{DELETE_DELAY_SECONDS}s");
    let server = Server::start(binary, &[("TD_DELETE_DELAY", &delay)]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let browser = connect(&driver.url).await;
        let outcome = walk_through_the_page(&browser, &server).await;
        if let Err(problem) = outcome {
            let shot = screenshot(&browser, binary).await;
            let _ = browser.close().await;
            panic!("the page test failed: {problem}\nscreenshot: {shot}");
        }
        let _ = browser.close().await;
    });
}

/// Whether Chromium and chromedriver are here; without them `test` says loudly that it was
/// skipped, and fails under CI.
fn browser_available(test: &str) -> bool {
    if chromium_available() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: CI requires Chromium and chromedriver for the page tests"
    );
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {test}: no chromium / chromedriver (apt-get install chromium chromium-driver) ***"
    );
    false
}

async fn connect(driver: &str) -> Browser {
    connect_as(driver, None).await
}

/// A browser session, presenting `user_agent` when given.
async fn connect_as(driver: &str, user_agent: Option<&str>) -> Browser {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1000,1200".to_owned(),
    ];
    args.extend(user_agent.map(|agent| format!("--user-agent={agent}")));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), json!({ "args": args }));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(driver)
        .await
        .expect("a WebDriver session")
}

async fn screenshot(browser: &Browser, binary: &str) -> String {
    let name = std::path::Path::new(binary)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = std::env::temp_dir().join(format!("page-test-failure-{name}.png"));
    match browser.screenshot().await {
        Ok(png) if std::fs::write(&path, &png).is_ok() => path.display().to_string(),
        _ => "none could be taken".into(),
    }
}

/// Opens the page and signs alice in through its form, naming this device `device_name`.
async fn sign_in_on_the_page(browser: &Browser, server: &Server, device_name: &str) -> Step<()> {
    browser
        .goto(&server.base)
        .await
        .map_err(fail("open the page"))?;
    until("the sign-in form", || visible(browser, "#sign-in")).await?;
    type_into(browser, "#username", ALICE.0).await?;
    type_into(browser, "#password", ALICE.1).await?;
    type_into(browser, "#device-name", device_name).await?;
    click(browser, "#sign-in-form button[type=submit]").await
}

/// Waits until `check` holds of the page, polling.
async fn until<F, Fut>(what: &str, mut check: F) -> Step<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + STEP;
    while !check().await {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn text_of(browser: &Browser, css: &str) -> String {
    match browser.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn device_items(browser: &Browser) -> Vec<String> {
    let Ok(items) = browser.find_all(Locator::Css("#device-list > li")).await else {
        return Vec::new();
    };
    let mut texts = Vec::new();
    for item in items {
        texts.push(item.text().await.unwrap_or_default());
    }
    texts
}

async fn visible(browser: &Browser, css: &str) -> bool {
    match browser.find(Locator::Css(css)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

async fn click(browser: &Browser, css: &str) -> Step<()> {
    browser
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .map_err(fail(css))?
        .click()
        .await
        .map_err(fail(css))
}

async fn type_into(browser: &Browser, css: &str, text: &str) -> Step<()> {
    let field = browser
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .map_err(fail(css))?;
    field.clear().await.map_err(fail(css))?;
    field.send_keys(text).await.map_err(fail(css))
}

async fn walk_through_the_page(browser: &Browser, server: &Server) -> Step<()> {
    let api = Client::new(&server.base);
    // Another device of alice's, whose name any client may choose: markup must show as text.
    let hostile = "<img src=x onerror=alert(1)> Phone";
    // The phone holds a key (SPEC §9): the page must say so.
    let phone_key =
        trusted_devices_core::dpop::DpopKey::generate_es256(&trusted_devices_core::OsRandom);
    let phone_proof = crate::dpop::proof(&phone_key, "POST", &server.base, "/auth/login", None);
    let phone = api.login(ALICE, &[("X-Device-Name", hostile), ("DPoP", &phone_proof)]);
    let phone_id = phone.text("device_id");

    sign_in_on_the_page(browser, server, "Test laptop").await?;
    let signed_in_at = Instant::now();
    until("two devices", || async {
        device_items(browser).await.len() == 2
    })
    .await?;
    let items = device_items(browser).await;
    let current: Vec<&String> = items
        .iter()
        .filter(|text| text.contains("This device"))
        .collect();
    if current.len() != 1 || !current[0].contains("Test laptop") {
        return Err(format!("the current device is not marked once: {items:?}"));
    }
    if !items.iter().any(|text| text.contains(hostile)) {
        return Err(format!("the hostile name is not shown as text: {items:?}"));
    }
    let key_bound: Vec<&String> = items
        .iter()
        .filter(|text| text.contains("Key-bound"))
        .collect();
    if key_bound.len() != 1 || !key_bound[0].contains(hostile) {
        return Err(format!("only the phone is marked key-bound: {items:?}"));
    }
    let alerts = browser
        .execute("return document.images.length", vec![])
        .await;
    if alerts.ok() != Some(json!(0)) {
        return Err("a device name became markup".into());
    }

    // Rename this device.
    let current_id = browser
        .find(Locator::Css("#device-list > li:has(.current)"))
        .await
        .map_err(fail("the current item"))?
        .attr("data-device-id")
        .await
        .map_err(fail("its id"))?
        .unwrap_or_default();
    type_into(browser, &format!("#rename-{current_id}"), "Renamed laptop").await?;
    click(
        browser,
        &format!("li[data-device-id='{current_id}'] .rename button"),
    )
    .await?;
    until("the new name", || async {
        text_of(browser, "#device-list > li:has(.current) h3")
            .await
            .contains("Renamed laptop")
    })
    .await?;
    // Rule H: the history shows the rename, in words, newest first.
    until("the rename in the recent activity", || async {
        visible(browser, "#activity").await
            && text_of(browser, "#activity-list > li:first-child")
                .await
                .contains("Renamed · Test laptop to “Renamed laptop”")
    })
    .await?;

    // Too young to remove the phone: the refusal in words.
    let phone_item = format!("li[data-device-id='{phone_id}']");
    click(browser, &format!("{phone_item} > button")).await?;
    until("the refusal", || async {
        text_of(browser, &format!("{phone_item} .refusal"))
            .await
            .contains("can remove other devices in")
    })
    .await?;

    // `TD_PAGE_SCREENSHOT=file.png` keeps a picture of this moment (the README's).
    if let Some(path) = std::env::var_os("TD_PAGE_SCREENSHOT") {
        let png = browser.screenshot().await.map_err(fail("screenshot"))?;
        std::fs::write(path, png).map_err(fail("write the screenshot"))?;
    }

    // Once this device is old enough, the phone goes.
    let old_enough = Duration::from_secs(DELETE_DELAY_SECONDS) + Duration::from_millis(300);
    tokio::time::sleep(old_enough.saturating_sub(signed_in_at.elapsed())).await;
    click(browser, &format!("{phone_item} > button")).await?;
    until("one device left", || async {
        device_items(browser).await.len() == 1
    })
    .await?;

    // A page on another origin posts to the devices API with this browser's cookies.
    let tablet = api.login(ALICE, &[("X-Device-Name", "Tablet")]);
    let tablet_access = tablet.text("access_token");
    browser
        .goto(&start_foreign_site(&server.base))
        .await
        .map_err(fail("open the foreign page"))?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let listed = api.get("/devices", Some(&tablet_access));
    if listed.status != 200 || listed.body.as_array().map(Vec::len) != Some(2) {
        return Err(format!(
            "the foreign page's post changed something: {listed:?}"
        ));
    }

    // Back on the page: sign out every other device, then sign out.
    browser
        .goto(&server.base)
        .await
        .map_err(fail("reopen the page"))?;
    until("two devices again", || async {
        device_items(browser).await.len() == 2
    })
    .await?;
    click(browser, "#revoke-others").await?;
    until("only this device", || async {
        device_items(browser).await.len() == 1
    })
    .await?;
    let tablet_after = api.get("/devices", Some(&tablet_access));
    if tablet_after.status != 401 {
        return Err(format!("the tablet is still signed in: {tablet_after:?}"));
    }
    // Issue 23: the access cookie has expired (the browser dropped it); signing out must
    // still end the device, not leave the refresh cookie able to sign the next person in.
    browser
        .delete_cookie("td_access")
        .await
        .map_err(fail("drop the access cookie"))?;
    click(browser, "#sign-out").await?;
    until("the sign-in form after signing out", || {
        visible(browser, "#sign-in")
    })
    .await?;
    let said = text_of(browser, "#status").await;
    if said != "Signed out." {
        return Err(format!("the page said {said:?} after signing out"));
    }
    let witness = api.login(ALICE, &[("X-Device-Name", "Witness")]);
    let left = api.get("/devices", Some(&witness.text("access_token")));
    if left.body.as_array().map(Vec::len) != Some(1) {
        return Err(format!("the signed-out device is still listed: {left:?}"));
    }
    browser.refresh().await.map_err(fail("reload"))?;
    until("the sign-in form after a reload", || {
        visible(browser, "#sign-in")
    })
    .await?;
    Ok(())
}

/// The README's picture of the page: a realistic account (a phone in Berlin, a work laptop
/// in Toronto, a key-bound tablet in Lisbon, and this browser), signed in through the page
/// and photographed by the browser. Checks what it shows; writes the PNG to the path in
/// `TD_README_SCREENSHOT` when set (`docs/your-devices.png` is made that way).
pub fn account_screenshot(binary: &str) {
    if !browser_available("account_screenshot") {
        return;
    }
    let database = places_database();
    let geoip = database.display().to_string();
    let server = Server::start(
        binary,
        &[("TD_GEOIP_DB", &geoip), ("TD_TRUSTED_PROXIES", "127.0.0.1")],
    );
    let api = Client::new(&server.base);
    let tablet_key =
        trusted_devices_core::dpop::DpopKey::generate_ed25519(&trusted_devices_core::OsRandom);
    let tablet_proof = crate::dpop::proof(&tablet_key, "POST", &server.base, "/auth/login", None);
    for (name, user_agent, address, proof) in [
        ("Alice's iPhone", IPHONE, "198.51.100.7", None),
        ("Work laptop", WINDOWS_CHROME, "192.0.2.44", None),
        (
            "Kitchen tablet",
            ANDROID_CHROME,
            "203.0.113.9",
            Some(tablet_proof.as_str()),
        ),
    ] {
        let mut headers = vec![
            ("X-Device-Name", name),
            ("User-Agent", user_agent),
            ("X-Forwarded-For", address),
        ];
        headers.extend(proof.map(|proof| ("DPoP", proof)));
        let login = api.login(ALICE, &headers);
        assert_eq!(login.status, 200, "{login:?}");
    }
    let driver = Driver::start().expect("chromedriver starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let browser = connect_as(&driver.url, Some(MAC_SAFARI)).await;
        let outcome = photograph_the_account(&browser, &server).await;
        let _ = browser.close().await;
        if let Err(problem) = outcome {
            panic!("the account screenshot failed: {problem}");
        }
    });
    let _ = std::fs::remove_file(database);
}

const MAC_SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const WINDOWS_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const ANDROID_CHROME: &str = "Mozilla/5.0 (Linux; Android 14; Pixel Tablet) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async fn photograph_the_account(browser: &Browser, server: &Server) -> Step<()> {
    browser
        .set_window_size(1000, 1900)
        .await
        .map_err(fail("size the window"))?;
    sign_in_on_the_page(browser, server, "Alice's MacBook").await?;
    until("four devices and the history", || async {
        device_items(browser).await.len() == 4 && visible(browser, "#activity").await
    })
    .await?;
    let items = device_items(browser).await;
    let shows = |name: &str, place: &str| {
        items
            .iter()
            .any(|item| item.contains(name) && item.contains(place))
    };
    let this_browser = items
        .iter()
        .any(|item| item.contains("This device") && item.contains("Safari on macOS"));
    if !this_browser {
        return Err(format!(
            "this browser is not shown as Safari on macOS: {items:?}"
        ));
    }
    let expected = [
        ("Alice's iPhone", "Berlin, Germany"),
        ("Work laptop", "Toronto, Ontario, Canada"),
        ("Kitchen tablet", "Lisbon, Portugal"),
    ];
    if let Some((name, place)) = expected.iter().find(|(name, place)| !shows(name, place)) {
        return Err(format!("{name} is not shown in {place}: {items:?}"));
    }
    if !items
        .iter()
        .any(|item| item.contains("Kitchen tablet") && item.contains("Key-bound"))
    {
        return Err(format!("the tablet is not marked key-bound: {items:?}"));
    }
    let png = browser.screenshot().await.map_err(fail("the screenshot"))?;
    if !png.starts_with(b"\x89PNG") {
        return Err("the screenshot is not a PNG".into());
    }
    if let Some(path) = std::env::var_os("TD_README_SCREENSHOT") {
        std::fs::write(&path, &png).map_err(fail("write the screenshot"))?;
    }
    Ok(())
}

/// A City database with three documentation networks in three cities, and loopback (this
/// browser) in Lisbon.
fn places_database() -> std::path::PathBuf {
    use trusted_devices_geoip::writer::{MmdbWriter, Value as Mmdb};
    let names = |name: &str| Mmdb::map([("names", Mmdb::map([("en", name.into())]))]);
    let place = |code: &str, country: &str, region: &str, city: &str, lat: f64, lon: f64| {
        Mmdb::map([
            (
                "country",
                Mmdb::map([
                    ("iso_code", code.into()),
                    ("names", Mmdb::map([("en", country.into())])),
                ]),
            ),
            ("subdivisions", Mmdb::Array(vec![names(region)])),
            ("city", names(city)),
            (
                "location",
                Mmdb::map([
                    ("latitude", Mmdb::Double(lat)),
                    ("longitude", Mmdb::Double(lon)),
                ]),
            ),
        ])
    };
    let mut writer = MmdbWriter::new("Contract-City");
    let lisbon = || place("PT", "Portugal", "Lisbon", "Lisbon", 38.72, -9.14);
    writer.insert("127.0.0.0/8".parse().unwrap(), lisbon());
    writer.insert("203.0.113.0/24".parse().unwrap(), lisbon());
    writer.insert(
        "198.51.100.0/24".parse().unwrap(),
        place("DE", "Germany", "Berlin", "Berlin", 52.52, 13.40),
    );
    writer.insert(
        "192.0.2.0/24".parse().unwrap(),
        place("CA", "Canada", "Ontario", "Toronto", 43.65, -79.38),
    );
    let path = std::env::temp_dir().join(format!(
        "td-contract-places-{}-{:?}.mmdb",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, writer.to_bytes()).unwrap();
    path
}
