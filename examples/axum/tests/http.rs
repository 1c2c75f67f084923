//! The real binary on a loopback port, driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use trusted_devices_example_contract::{
    Server, login_failures_look_alike, start_failure, walkthrough, walkthrough_as,
};

const BINARY: &str = env!("CARGO_BIN_EXE_trusted-devices-example-axum");

#[test]
fn axum_server_walkthrough_over_http() {
    walkthrough(&Server::start(BINARY, &[]));
}

/// With TD_REDIS_URL the refresh tokens live in Redis; the walk-through is unchanged.
#[test]
fn axum_server_with_tokens_in_redis_walkthrough_over_http() {
    match std::env::var("TD_TEST_REDIS_URL") {
        Ok(url) => walkthrough(&Server::start(BINARY, &[("TD_REDIS_URL", &url)])),
        Err(_) if std::env::var_os("CI").is_some() => panic!("CI requires TD_TEST_REDIS_URL"),
        Err(_) => {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"\n*** SKIPPED axum_server_with_tokens_in_redis_walkthrough_over_http: no Redis ***\n",
            );
        }
    }
}

/// With TD_DATABASE_URL=postgres://… the devices and tokens live in PostgreSQL.
#[test]
fn axum_server_on_postgres_walkthrough_over_http() {
    match std::env::var("TD_TEST_POSTGRES_URL") {
        Ok(url) => {
            // A user of this run alone: the database outlives the test.
            let user = format!("pg-{}", std::process::id());
            let users = format!("{user}:{user}-password");
            let server = Server::start(
                BINARY,
                &[("TD_DATABASE_URL", &url), ("TD_DEMO_USERS", &users)],
            );
            walkthrough_as(&server, (&user, &format!("{user}-password")));
        }
        Err(_) if std::env::var_os("CI").is_some() => panic!("CI requires TD_TEST_POSTGRES_URL"),
        Err(_) => {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"\n*** SKIPPED axum_server_on_postgres_walkthrough_over_http: no PostgreSQL ***\n",
            );
        }
    }
}

#[test]
fn axum_server_login_failures_look_alike() {
    login_failures_look_alike(&Server::start(BINARY, &[]));
}

#[test]
fn axum_server_stops_gracefully_on_sigterm() {
    let status = Server::start(BINARY, &[]).terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn axum_server_refuses_bad_settings_with_one_line_naming_them() {
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
    ];
    for (setting, value) in cases {
        let (status, stderr) = start_failure(BINARY, &[(setting, value)]);
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

/// The README's curl walk-through, run as written against the real server.
#[test]
fn readme_walkthrough_works_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let block = readme
        .split("<!-- walkthrough:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- walkthrough:end -->").next())
        .expect("the README marks its walk-through");
    let script = block
        .trim()
        .trim_start_matches("```sh")
        .trim_end_matches("```");
    let server = Server::start(BINARY, &[]);
    let script = script.replace("http://127.0.0.1:3000", &server.base);
    let output = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(r#""user_id":"alice""#), "{stdout}");
    assert!(stdout.contains(r#""name":"My laptop""#), "{stdout}");
    assert!(stdout.contains("logout: 204"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with(r#""code":"device_revoked"}"#),
        "{stdout}"
    );
}
