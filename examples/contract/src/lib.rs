//! The HTTP contract of SPEC §6 and §7, checked over real HTTP against an example server
//! binary started on a loopback port: written once, run against every example server.
//!
//! Test support: failures panic, like assertions.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod activity;
mod browser;
mod cases;
mod client;
mod dpop;
mod geolocation;
mod hardening;
mod metrics;
mod openapi;
mod proxy;
mod rate_limits;
mod server;
mod suite;

pub use activity::activity_route;
pub use browser::{account_screenshot, your_devices_page};
pub use cases::{
    bad_settings, cookie_fields_planted_first, cookie_renewal_on_application_routes,
    cookie_sign_out, cookie_transport, cross_site_logins_lock_nobody_out, postgres_walkthrough,
    readme_dpop_walkthrough, readme_walkthrough, routes_and_codes, rule_a_readme_asymmetry,
    server_url, unreachable_store_at_start,
};
pub use client::{Client, Reply};
pub use dpop::{
    dpop_bound_device, dpop_htu_names_this_server, dpop_login_proof_before_password,
    dpop_replay_across_servers, dpop_server_nonce,
};
pub use geolocation::{bad_geoip_database, geolocation_and_risk_signals};
pub use hardening::{
    login_flood, postgres_outage, redis_outage, slow_clients, strict_bodies_and_no_store,
};
pub use metrics::metrics_endpoint;
pub use openapi::openapi_document;
pub use proxy::Proxy;
pub use rate_limits::rate_limits;
pub use server::{Server, start_failure};

use serde_json::json;

/// A demo user's credentials (the servers' default `TD_DEMO_USERS`).
pub const ALICE: (&str, &str) = ("alice", "alice-password");

/// The README's walk-through: login, `/me`, list, refresh, logout, and the logged-out
/// token refused.
pub fn walkthrough(server: &Server) {
    walkthrough_as(server, ALICE);
}

/// The walk-through as another demo user.
pub fn walkthrough_as(server: &Server, user: (&str, &str)) {
    let client = Client::new(&server.base);
    let login = client.login(
        user,
        &[
            ("X-Device-Name", "  Work laptop  "),
            ("User-Agent", "Firefox/128.0 (X11; Linux x86_64)"),
        ],
    );
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.header("cache-control").as_deref(), Some("no-store"));
    let access = login.text("access_token");
    let refresh = login.text("refresh_token");
    let device_id = login.text("device_id");
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);

    let me = client.get("/me", Some(&access));
    assert_eq!(me.status, 200);
    assert_eq!(me.body, json!({"user_id": user.0, "device_id": device_id}));

    let devices = client.get("/devices", Some(&access));
    assert_eq!(devices.status, 200);
    let list = devices.body.as_array().expect("a JSON array of devices");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "Work laptop");
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[0]["ip"], "127.0.0.1");

    let refreshed = client.post("/auth/refresh", None, &json!({"refresh_token": refresh}));
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    let access = refreshed.text("access_token");
    assert_ne!(refreshed.text("refresh_token"), refresh);

    let logout = client.post_empty("/devices/logout", Some(&access));
    assert_eq!(logout.status, 204);
    let after = client.get("/me", Some(&access));
    assert_eq!(after.status, 401);
    assert_eq!(after.body["code"], "device_revoked");
    assert_eq!(
        after.header("www-authenticate").as_deref(),
        Some("Bearer error=\"invalid_token\"")
    );
}

/// Wrong name and wrong password are the same 401 `invalid_credentials`.
pub fn login_failures_look_alike(server: &Server) {
    let client = Client::new(&server.base);
    let wrong_password = client.login(("alice", "not-her-password"), &[]);
    let unknown_user = client.login(("mallory", "alice-password"), &[]);
    for reply in [&wrong_password, &unknown_user] {
        assert_eq!(reply.status, 401);
        assert_eq!(reply.body["code"], "invalid_credentials");
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json")
        );
    }
    assert_eq!(
        wrong_password.body, unknown_user.body,
        "the two failures must not differ"
    );
    let malformed = client.post("/auth/login", None, &json!({"username": "alice"}));
    assert_eq!(malformed.status, 422);
    assert_eq!(malformed.body["code"], "invalid_request");
}
