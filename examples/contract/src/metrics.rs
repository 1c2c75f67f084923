//! Issue 14 over HTTP: `GET /metrics` serves the library's counters in the Prometheus text
//! format, and they move with what they count.

use crate::{Client, Server};

fn counter(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

/// A login and a refused request, then the counters, on the metrics listener alone: the
/// public listener does not serve them (SPEC §7).
pub fn metrics_endpoint(binary: &str) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap();
    let metrics_addr = format!("127.0.0.1:{port}");
    let server = Server::start(binary, &[("TD_METRICS_ADDR", &metrics_addr)]);
    let client = Client::new(&server.base);
    let public = client.send("GET", "/metrics", &[], None);
    assert_eq!(public.status, 404, "metrics stay off the public listener");
    let login = client.login(("alice", "alice-password"), &[]);
    assert_eq!(login.status, 200);
    let refresh = client.post(
        "/auth/refresh",
        None,
        &serde_json::json!({"refresh_token": login.text("refresh_token")}),
    );
    assert_eq!(refresh.status, 200);
    let me = client.get("/me", Some(&refresh.text("access_token")));
    assert_eq!(me.status, 200);

    let reply = Client::new(&format!("http://{metrics_addr}")).send("GET", "/metrics", &[], None);
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain"),
        "{:?}",
        reply.header("content-type")
    );
    let text = reply.body.as_str().unwrap_or_default().to_owned();
    assert_eq!(
        counter(&text, "trusted_devices_logins_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        counter(&text, "trusted_devices_refreshes_total"),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains("trusted_devices_device_cache_total{result=\""),
        "the default SQLite server caches devices: {text}"
    );
}
