//! Rule H over HTTP: `GET /devices/activity` lists the user's history newest first, pages
//! by `next_cursor`, and refuses a cursor it did not write.

use serde_json::json;

use crate::{Client, Server};

/// Logins, a rename and a removal, then the history in pages of two.
pub fn activity_route(binary: &str) {
    let server = Server::start(
        binary,
        &[("TD_DELETE_DELAY", "0s"), ("TD_UPDATE_DELAY", "0s")],
    );
    let client = Client::new(&server.base);
    let laptop = client.login(("alice", "alice-password"), &[("x-device-name", "Laptop")]);
    let phone = client.login(("alice", "alice-password"), &[("x-device-name", "Phone")]);
    let token = laptop.text("access_token");
    let phone_id = phone.text("device_id");
    let renamed = client.patch(
        &format!("/devices/{phone_id}"),
        Some(&token),
        &json!({"name": "Old phone"}),
    );
    assert_eq!(renamed.status, 200);
    assert_eq!(
        client
            .delete(&format!("/devices/{phone_id}"), Some(&token))
            .status,
        204
    );

    let first = client.get("/devices/activity?limit=2", Some(&token));
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.header("cache-control").as_deref(), Some("no-store"));
    let events = first.body["events"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["device_revoked", "device_renamed"]);
    assert_eq!(events[0]["device_id"], phone_id.as_str());
    assert_eq!(events[0]["device_name"], "Old phone");
    assert_eq!(
        events[0]["actor_device_id"],
        laptop.text("device_id").as_str()
    );
    assert_eq!(events[0]["detail"], "revoked_by_device");
    assert_eq!(events[0]["ip"], "127.0.0.1");
    let cursor = first.body["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = client.get(
        &format!("/devices/activity?limit=2&cursor={cursor}"),
        Some(&token),
    );
    let kinds: Vec<String> = second.body["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(kinds, ["login", "login"]);
    let bad = client.get("/devices/activity?cursor=nonsense", Some(&token));
    assert_eq!(bad.body["code"], "invalid_request");
    assert_eq!(client.get("/devices/activity", None).status, 401);
}
