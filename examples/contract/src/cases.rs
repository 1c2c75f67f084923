//! Contract cases that start their own servers with particular settings.

use serde_json::json;

use crate::{ALICE, Client, Reply, Server, start_failure, walkthrough_as};

/// A server's URL from `variable`, or `None` after a loud skip message (a failure under CI).
pub fn server_url(variable: &str, test: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!("{test}: CI requires {variable}"),
        _ => {
            // Straight to the stderr handle: libtest captures eprintln! of passing tests.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("\n*** SKIPPED {test}: {variable} is not set ***\n").as_bytes(),
            );
            None
        }
    }
}

fn problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{code}: {}", reply.body);
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    assert_eq!(reply.body["status"], status);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let bearer = [
        "token_missing",
        "token_invalid",
        "token_expired",
        "device_revoked",
    ]
    .contains(&code);
    let challenge = reply.header("www-authenticate");
    assert_eq!(
        challenge.as_deref(),
        bearer.then_some("Bearer error=\"invalid_token\""),
        "{code}"
    );
}

fn login(client: &Client, name: &str) -> (String, String, String) {
    let reply = client.login(ALICE, &[("X-Device-Name", name)]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    (
        reply.text("access_token"),
        reply.text("refresh_token"),
        reply.text("device_id"),
    )
}

/// The routes and error codes of SPEC §6 over real HTTP, under several policies.
pub fn routes_and_codes(binary: &str) {
    // Default policy: a new device is too young to act on an older one.
    let server = Server::start(binary, &[]);
    let client = Client::new(&server.base);
    let (_, _, laptop) = login(&client, "Laptop");
    let (phone, _, _) = login(&client, "Phone");
    let too_soon = client.delete(&format!("/devices/{laptop}"), Some(&phone));
    problem(&too_soon, 403, "delete_too_soon");
    assert_eq!(too_soon.header("retry-after").as_deref(), Some("86400"));
    assert_eq!(too_soon.body["retry_after"], 86_400);
    let rename = client.patch(
        &format!("/devices/{laptop}"),
        Some(&phone),
        &json!({"name": "x"}),
    );
    problem(&rename, 403, "update_too_soon");
    problem(&client.get("/devices", None), 401, "token_missing");
    problem(
        &client.get("/devices", Some("not.a.token")),
        401,
        "token_invalid",
    );
    drop(server);

    // No delays, at most two devices.
    let server = Server::start(
        binary,
        &[
            ("TD_DELETE_DELAY", "0s"),
            ("TD_UPDATE_DELAY", "0s"),
            ("TD_MAX_DEVICES", "2"),
        ],
    );
    let client = Client::new(&server.base);
    let (first, _, first_id) = login(&client, "First");
    let (_, refresh, second_id) = login(&client, "Second");
    problem(&client.login(ALICE, &[]), 409, "too_many_devices");

    let verified = client.post("/auth/verify", None, &json!({"token": first}));
    assert_eq!(
        (verified.status, verified.body["device_id"].clone()),
        (200, json!(first_id))
    );
    let got = client.get(&format!("/devices/{second_id}"), Some(&first));
    assert_eq!(
        (got.status, got.body["current"].clone()),
        (200, json!(false))
    );
    let patched = client.patch(
        &format!("/devices/{second_id}"),
        Some(&first),
        &json!({"name": "  Renamed "}),
    );
    assert_eq!(
        (patched.status, patched.body["name"].clone()),
        (200, json!("Renamed"))
    );
    problem(
        &client.get("/devices/not-a-uuid", Some(&first)),
        404,
        "device_not_found",
    );
    problem(
        &client.post("/auth/refresh", None, &json!({"refresh_token": "tdr_x"})),
        401,
        "refresh_token_invalid",
    );
    problem(
        &client.post_raw("/auth/refresh", b"{not json"),
        400,
        "invalid_request",
    );
    problem(
        &client.post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": refresh, "extra": 1}),
        ),
        422,
        "invalid_request",
    );
    // One byte over the limit: the server reads it all, then refuses. (A body much larger is
    // refused just the same, but over a real socket the unread rest makes the kernel reset
    // the connection, racing the answer; the in-process router tests cover that size.)
    let over_limit = vec![b' '; 16 * 1024 + 1];
    problem(
        &client.post_raw("/auth/verify", &over_limit),
        400,
        "invalid_request",
    );
    let deleted = client.delete(&format!("/devices/{second_id}"), Some(&first));
    assert_eq!(deleted.status, 204);
    let (_, _, _) = login(&client, "Third");
    let revoked = client.post_empty("/devices/revoke-others", Some(&first));
    assert_eq!(
        (revoked.status, revoked.body.clone()),
        (200, json!({"revoked": 1}))
    );
    drop(server);

    // Switches and flags.
    let server = Server::start(
        binary,
        &[
            ("TD_DELETE_DELAY", "0s"),
            ("TD_ALLOW_GLOBAL_DELETE", "false"),
            ("TD_ALLOW_GLOBAL_UPDATE", "false"),
        ],
    );
    let client = Client::new(&server.base);
    let (_, _, target) = login(&client, "Target");
    let (acting, _, _) = login(&client, "Acting");
    problem(
        &client.delete(&format!("/devices/{target}"), Some(&acting)),
        403,
        "global_delete_disabled",
    );
    problem(
        &client.patch(
            &format!("/devices/{target}"),
            Some(&acting),
            &json!({"name": "x"}),
        ),
        403,
        "global_update_disabled",
    );
    drop(server);

    let server = Server::start(
        binary,
        &[
            ("TD_DELETE_DELAY", "0s"),
            ("TD_DEFAULT_CAN_DELETE_OTHER_DEVICES", "false"),
        ],
    );
    let client = Client::new(&server.base);
    let (_, _, target) = login(&client, "Target");
    let (acting, _, _) = login(&client, "Acting");
    problem(
        &client.delete(&format!("/devices/{target}"), Some(&acting)),
        403,
        "permission_denied",
    );
}

/// An unreachable store at start: a log line says what the server waits for, then it stops
/// with one line naming the setting, within a few storage timeouts rather than 5-10 s.
pub fn unreachable_store_at_start(binary: &str) {
    let cases = [
        (
            "TD_DATABASE_URL",
            "postgres://td:secret@127.0.0.1:1/td",
            "opening the database",
        ),
        ("TD_REDIS_URL", "redis://127.0.0.1:1", "connecting to Redis"),
    ];
    for (setting, value, waiting) in cases {
        let started = std::time::Instant::now();
        // The default level, as an operator starting the server sees it.
        let env = [(setting, value), ("RUST_LOG", "info")];
        let (status, stderr) = start_failure(binary, &env);
        let took = started.elapsed();
        assert_eq!(status.code(), Some(2), "{setting}: {stderr}");
        assert!(
            stderr.contains(waiting),
            "{setting}: no {waiting:?} in {stderr}"
        );
        assert!(
            !stderr.contains("secret"),
            "the password reached the log: {stderr}"
        );
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{setting}: {stderr}");
        assert!(errors[0].contains(setting), "{}", errors[0]);
        assert!(
            took < std::time::Duration::from_secs(4),
            "{setting}: took {took:?}"
        );
    }
}

/// Bad settings stop the server with exit status 2 and one line naming the setting.
pub fn bad_settings(binary: &str) {
    let cases = [
        ("TD_DELETE_DELAY", "5x"),
        ("TD_EVICTION", "evict-newest"),
        ("TD_MAX_DEVICES", "0"),
        ("TD_SECRET", "too-short"),
        (
            "TD_DATABASE_URL",
            "sqlite:/nonexistent-dir/for/sure/devices.db",
        ),
        ("TD_DATABASE_URL", "mysql://nope"),
        ("TD_REDIS_URL", "redis://127.0.0.1:1"),
        ("TD_TRUSTED_PROXY_HEADER", "x-real-ip"),
        ("TD_STORAGE_TIMEOUT", "0s"),
        ("TD_HEADER_READ_TIMEOUT", "soon"),
        ("TD_PASSWORD_HASH_CONCURRENCY", "0"),
    ];
    for (setting, value) in cases {
        let (status, stderr) = start_failure(binary, &[(setting, value)]);
        assert_eq!(status.code(), Some(2), "{setting}={value}: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|line| line.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{setting}={value}: {stderr}");
        assert!(
            errors[0].contains(setting),
            "{setting}={value}: {}",
            errors[0]
        );
    }
}

/// The walk-through with devices and tokens in PostgreSQL, as a user of this run alone.
pub fn postgres_walkthrough(binary: &str, url: &str) {
    let user = format!("pg-{}", std::process::id());
    let password = format!("{user}-password");
    let users = format!("{user}:{password}");
    let server = Server::start(
        binary,
        &[("TD_DATABASE_URL", url), ("TD_DEMO_USERS", &users)],
    );
    walkthrough_as(&server, (&user, &password));
}

/// Runs the README's shell block between `<!-- {marker}:start -->` and
/// `<!-- {marker}:end -->` as written, from the repository's root, against a fresh server
/// (its address in place of `http://127.0.0.1:3000`); what it printed.
fn run_readme_block(binary: &str, marker: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the README");
    let block = readme
        .split(&format!("<!-- {marker}:start -->"))
        .nth(1)
        .and_then(|rest| rest.split(&format!("<!-- {marker}:end -->")).next())
        .unwrap_or_else(|| panic!("the README marks its {marker}"));
    let script = block
        .trim()
        .trim_start_matches("```sh")
        .trim_end_matches("```");
    let server = Server::start(binary, &[]);
    let script = script.replace("http://127.0.0.1:3000", &server.base);
    let output = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The README's curl walk-through, run as written against the server.
pub fn readme_walkthrough(binary: &str) {
    let stdout = run_readme_block(binary, "walkthrough");
    assert!(stdout.contains(r#""user_id":"alice""#), "{stdout}");
    assert!(stdout.contains(r#""name":"My laptop""#), "{stdout}");
    assert!(stdout.contains("logout: 204"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with(r#""code":"device_revoked"}"#),
        "{stdout}"
    );
}

/// The README's DPoP walk-through (SPEC §9), run as written against the server: a bound
/// login, `/me` with a proof, and the same token refused as `Bearer`.
pub fn readme_dpop_walkthrough(binary: &str) {
    let stdout = run_readme_block(binary, "dpop-walkthrough");
    assert!(stdout.contains(r#""token_type":"DPoP""#), "{stdout}");
    assert!(stdout.contains(r#""user_id":"alice""#), "{stdout}");
    assert!(
        stdout.trim_end().ends_with(r#""code":"dpop_invalid"}"#),
        "{stdout}"
    );
}

/// Rule A as the README tells it: delays count from the acting device's own login. With
/// `TD_DELETE_DELAY=1s`, a laptop that logged in over a second before the phone may remove
/// the phone at once; the phone may neither remove the laptop nor strip its flags yet.
pub fn rule_a_readme_asymmetry(binary: &str) {
    let server = Server::start(
        binary,
        &[("TD_DELETE_DELAY", "1s"), ("TD_UPDATE_DELAY", "0s")],
    );
    let client = Client::new(&server.base);
    let (laptop_access, _, laptop) = login(&client, "Laptop");
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let (phone_access, _, phone) = login(&client, "Phone");
    let refused = client.delete(&format!("/devices/{laptop}"), Some(&phone_access));
    problem(&refused, 403, "delete_too_soon");
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    let strip = client.patch(
        &format!("/devices/{laptop}"),
        Some(&phone_access),
        &json!({"can_delete_other_devices": false}),
    );
    problem(&strip, 403, "delete_too_soon");
    let rename = client.patch(
        &format!("/devices/{laptop}"),
        Some(&phone_access),
        &json!({"name": "Old laptop"}),
    );
    assert_eq!(rename.status, 200, "a rename needs only the update delay");
    let removed = client.delete(&format!("/devices/{phone}"), Some(&laptop_access));
    assert_eq!(
        removed.status, 204,
        "the older laptop removes the newcomer at once"
    );
}

/// The `name=value` pairs of a reply's `Set-Cookie`s, as a browser sends them back; a
/// cleared cookie (empty value) is left out.
fn cookies_of(reply: &Reply) -> String {
    reply
        .headers_named("set-cookie")
        .iter()
        .filter_map(|cookie| cookie.split(';').next())
        .filter(|pair| !pair.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

const ALICE_LOGIN: &[u8] = br#"{"username":"alice","password":"alice-password"}"#;

/// Alice's cookie login from `origin`, which must succeed.
fn cookie_login(client: &Client, origin: &str) -> Reply {
    let login = client.send(
        "POST",
        "/auth/login",
        &[("X-Token-Transport", "cookie"), ("Origin", origin)],
        Some(ALICE_LOGIN),
    );
    assert_eq!(login.status, 200, "{login:?}");
    login
}

/// The access cookie's `name=value` pair of a cookie login's answer.
fn access_pair(login: &Reply) -> String {
    cookies_of(login)
        .split("; ")
        .find(|pair| pair.contains("access="))
        .unwrap_or_default()
        .to_owned()
}

/// SPEC §8, several `Cookie` fields (HTTP/2 sends each cookie in a field of its own; a
/// sibling subdomain can plant one): a planted access cookie in the first field never signs
/// the person into the planter's account, whichever field comes first.
pub fn cookie_fields_planted_first(binary: &str) {
    let server = Server::start(binary, &[]);
    let client = Client::new(&server.base);
    let origin = server.base.as_str();
    let alice = access_pair(&cookie_login(&client, origin));
    let bob_login = client.send(
        "POST",
        "/auth/login",
        &[("X-Token-Transport", "cookie"), ("Origin", origin)],
        Some(br#"{"username":"bob","password":"bob-password"}"#),
    );
    assert_eq!(bob_login.status, 200, "{bob_login:?}");
    let planted = access_pair(&bob_login);
    for fields in [[&planted, &alice], [&alice, &planted]] {
        let headers = [
            ("Cookie", fields[0].as_str()),
            ("Cookie", fields[1].as_str()),
        ];
        let reply = client.send("GET", "/devices", &headers, None);
        assert_eq!(
            reply.status, 401,
            "two access cookies in two fields must sign nobody in: {reply:?}"
        );
    }
    let own = client.send("GET", "/devices", &[("Cookie", &alice)], None);
    assert_eq!(own.status, 200, "{own:?}");
    let split = client.send(
        "GET",
        "/devices",
        &[("Cookie", "theme=dark"), ("Cookie", &alice)],
        None,
    );
    assert_eq!(
        split.status, 200,
        "one access cookie across fields is read: {split:?}"
    );
}

/// SPEC §8 over real HTTP: a cookie login, cookie requests behind the CSRF guard, renewal
/// through the refresh cookie, and logout clearing both cookies.
pub fn cookie_transport(binary: &str) {
    let server = Server::start(binary, &[]);
    let client = Client::new(&server.base);
    let origin = server.base.as_str();
    let login = cookie_login(&client, origin);
    assert!(login.body.get("access_token").is_none(), "{login:?}");
    let set = login.headers_named("set-cookie");
    assert_eq!(set.len(), 2, "{set:?}");
    assert!(
        set.iter().all(|cookie| cookie.contains("HttpOnly")),
        "{set:?}"
    );
    assert!(
        set.iter()
            .any(|cookie| cookie.contains("Path=/auth/refresh")),
        "{set:?}"
    );
    let cookies = cookies_of(&login);
    let device = login.text("device_id");

    let foreign = client.send(
        "POST",
        "/auth/login",
        &[
            ("X-Token-Transport", "cookie"),
            ("Origin", "http://127.0.0.1:1"),
        ],
        Some(ALICE_LOGIN),
    );
    problem(&foreign, 403, "csrf_rejected");

    let list = client.send("GET", "/devices", &[("Cookie", &cookies)], None);
    assert_eq!(list.status, 200, "{list:?}");
    let rename = br#"{"name":"Browser"}"#;
    let path = format!("/devices/{device}");
    let no_origin = client.send("PATCH", &path, &[("Cookie", &cookies)], Some(rename));
    problem(&no_origin, 403, "csrf_rejected");
    let renamed = client.send(
        "PATCH",
        &path,
        &[("Cookie", &cookies), ("Origin", origin)],
        Some(rename),
    );
    assert_eq!(renamed.status, 200, "{renamed:?}");

    let access = cookies
        .split("; ")
        .find_map(|pair| {
            pair.split_once('=')
                .filter(|(name, _)| name.ends_with("td_access"))
        })
        .map(|(_, value)| value.to_owned())
        .unwrap();
    problem(&client.get("/devices", Some(&access)), 401, "token_invalid");

    let renewed = client.send(
        "POST",
        "/auth/refresh",
        &[("Cookie", &cookies), ("Origin", origin)],
        None,
    );
    assert_eq!(renewed.status, 200, "{renewed:?}");
    assert_eq!(renewed.headers_named("set-cookie").len(), 2);
    let cookies = cookies_of(&renewed);

    let logout = client.send(
        "POST",
        "/devices/logout",
        &[("Cookie", &cookies), ("Origin", origin)],
        None,
    );
    assert_eq!(logout.status, 204, "{logout:?}");
    let cleared = logout.headers_named("set-cookie");
    assert_eq!(cleared.len(), 2, "{cleared:?}");
    assert!(
        cleared.iter().all(|cookie| cookie.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let after = client.send("GET", "/devices", &[("Cookie", &cookies)], None);
    problem(&after, 401, "device_revoked");
}

/// Issue 23's first finding over real HTTP: once the browser has dropped its expired access
/// cookie, `POST /devices/logout` must still clear both cookies, and the refresh route's
/// sign-out (`DELETE /auth/refresh`, where the refresh cookie is sent) ends the device, so
/// the refresh cookie renews nothing afterwards.
pub fn cookie_sign_out(binary: &str) {
    let server = Server::start(binary, &[]);
    let client = Client::new(&server.base);
    let origin = server.base.as_str();
    let login = cookie_login(&client, origin);
    let refresh_only: String = cookies_of(&login)
        .split("; ")
        .filter(|pair| pair.contains("td_refresh="))
        .collect();
    let cleared = |reply: &Reply| {
        let set = reply.headers_named("set-cookie");
        set.len() == 2 && set.iter().all(|cookie| cookie.contains("Max-Age=0"))
    };

    let logout = client.send(
        "POST",
        "/devices/logout",
        &[("Cookie", &refresh_only), ("Origin", origin)],
        None,
    );
    problem(&logout, 401, "token_missing");
    assert!(
        cleared(&logout),
        "a refused sign-out clears both cookies: {logout:?}"
    );

    let cross = client.send(
        "DELETE",
        "/auth/refresh",
        &[("Cookie", &refresh_only), ("Origin", "http://evil.example")],
        None,
    );
    problem(&cross, 403, "csrf_rejected");
    assert!(cleared(&cross), "{cross:?}");

    let sign_out = client.send(
        "DELETE",
        "/auth/refresh",
        &[("Cookie", &refresh_only), ("Origin", origin)],
        None,
    );
    assert_eq!(sign_out.status, 204, "{sign_out:?}");
    assert!(cleared(&sign_out), "{sign_out:?}");
    let renewed = client.send(
        "POST",
        "/auth/refresh",
        &[("Cookie", &refresh_only), ("Origin", origin)],
        None,
    );
    problem(&renewed, 401, "refresh_token_invalid");
}

/// Issue 23, finding 8: a cookie request on the application's own `/me` past half its
/// access token's life gets its fresh access cookie (it was thrown away, so every later
/// request renewed again, each writing the idle deadline and telling the feed), and the
/// request with the fresh cookie is not renewed again.
pub fn cookie_renewal_on_application_routes(binary: &str) {
    let server = Server::start(binary, &[("TD_ACCESS_TOKEN_TTL", "4s")]);
    let client = Client::new(&server.base);
    let login = cookie_login(&client, server.base.as_str());
    let cookies = cookies_of(&login);
    let access_set = |reply: &Reply| {
        reply
            .headers_named("set-cookie")
            .iter()
            .any(|cookie| cookie.contains("td_access=") && !cookie.contains("Max-Age=0"))
    };
    let early = client.send("GET", "/me", &[("Cookie", &cookies)], None);
    assert_eq!(early.status, 200, "{early:?}");
    assert!(
        !access_set(&early),
        "no renewal in the first half: {early:?}"
    );

    // Past half of the 4 s life (whole seconds in the token).
    std::thread::sleep(std::time::Duration::from_millis(2_300));
    let late = client.send("GET", "/me", &[("Cookie", &cookies)], None);
    assert_eq!(late.status, 200, "{late:?}");
    assert!(
        access_set(&late),
        "section 8: /me hands back the renewal: {late:?}"
    );
    let renewed = cookies_of(&late);
    let refresh = cookies
        .split("; ")
        .find(|pair| pair.contains("td_refresh="));
    let fresh = [Some(renewed.as_str()), refresh].into_iter().flatten();
    let fresh = fresh.collect::<Vec<_>>().join("; ");
    let next = client.send("GET", "/me", &[("Cookie", &fresh)], None);
    assert_eq!(next.status, 200, "{next:?}");
    assert!(
        !access_set(&next),
        "the fresh cookie is not renewed again: {next:?}"
    );
}

/// Issue 23's second finding: ten `text/plain` posts from a cross-site page, each with a
/// wrong password for alice, emptied her login buckets and her own login answered 429 for
/// 90 s. A login from a disallowed origin or `Sec-Fetch-Site: cross-site`, or whose body is
/// not JSON, is refused before any bucket is touched, whatever its transport.
pub fn cross_site_logins_lock_nobody_out(binary: &str) {
    let server = Server::start(binary, &[("TD_LOGIN_RATE_PER_USER", "3/15m")]);
    let client = Client::new(&server.base);
    let guess = br#"{"username":"alice","password":"guess"}"#;
    for _ in 0..5 {
        let foreign = client.send(
            "POST",
            "/auth/login",
            &[
                ("Content-Type", "text/plain"),
                ("Origin", "http://evil.example"),
            ],
            Some(guess),
        );
        problem(&foreign, 403, "csrf_rejected");
        let cross_site = client.send(
            "POST",
            "/auth/login",
            &[("Sec-Fetch-Site", "cross-site")],
            Some(guess),
        );
        problem(&cross_site, 403, "csrf_rejected");
        let text = client.send(
            "POST",
            "/auth/login",
            &[("Content-Type", "text/plain")],
            Some(guess),
        );
        problem(&text, 400, "invalid_request");
    }
    let own = client.login(ALICE, &[]);
    assert_eq!(own.status, 200, "alice is not locked out: {own:?}");
}
