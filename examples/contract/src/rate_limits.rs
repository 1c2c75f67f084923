//! Rule K over HTTP: past a limit the answer is 429 `rate_limited` with `Retry-After`, and
//! once the bucket refills the same request is allowed again; nothing is revoked.

use std::time::Duration;

use serde_json::json;

use crate::{Client, Reply, Server};

const ALICE: (&str, &str) = ("alice", "alice-password");

fn assert_limited(reply: &Reply) -> u64 {
    assert_eq!(reply.status, 429, "{:?}", reply.body);
    assert_eq!(reply.body["code"], "rate_limited");
    let header: u64 = reply
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After header in whole seconds");
    assert_eq!(reply.body["retry_after"], header);
    assert!((1..=2).contains(&header), "{header}");
    header
}

/// Logins, verifications and refreshes past their limits, then allowed again.
pub fn rate_limits(binary: &str) {
    let server = Server::start(
        binary,
        &[
            ("TD_RATE_LIMITS", "on"),
            ("TD_LOGIN_RATE_PER_IP", "2/2s"),
            ("TD_VERIFY_RATE_PER_IP", "2/2s"),
            ("TD_REFRESH_RATE_PER_IP", "2/2s"),
        ],
    );
    let client = Client::new(&server.base);

    let first = client.login(ALICE, &[]);
    assert_eq!(first.status, 200);
    assert_eq!(client.login(ALICE, &[]).status, 200);
    let wait = assert_limited(&client.login(ALICE, &[]));
    // A wrong password is limited the same way: no password check runs past the limit.
    assert_limited(&client.login(("alice", "wrong"), &[]));

    let access = first.text("access_token");
    let verify = || client.post("/auth/verify", None, &json!({"token": access}));
    assert_eq!(verify().status, 200);
    assert_eq!(verify().status, 200);
    assert_limited(&verify());

    let refresh =
        |token: &str| client.post("/auth/refresh", None, &json!({"refresh_token": token}));
    let renewed = refresh(&first.text("refresh_token"));
    assert_eq!(renewed.status, 200);
    let renewed = refresh(&renewed.text("refresh_token"));
    assert_eq!(renewed.status, 200);
    let limited = refresh(&renewed.text("refresh_token"));
    assert_limited(&limited);

    std::thread::sleep(Duration::from_secs(wait) + Duration::from_millis(200));
    assert_eq!(client.login(ALICE, &[]).status, 200, "allowed again");
    let again = refresh(&renewed.text("refresh_token"));
    assert_eq!(
        again.status, 200,
        "the limited refresh consumed nothing: {:?}",
        again.body
    );
    let me = client.get("/me", Some(&again.text("access_token")));
    assert_eq!(me.status, 200, "a limit never revokes the device");
}
