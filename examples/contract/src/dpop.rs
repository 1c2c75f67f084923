//! SPEC §9 over real HTTP: a device bound to a key at login, whose tokens are useless
//! without the key, on every example server.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use trusted_devices_core::OsRandom;
use trusted_devices_core::dpop::{DpopKey, ProofFor};

use crate::{ALICE, Client, Reply, Server};

/// A proof by `key` for `method` on `base` + `path`, now, with a fresh `jti`.
pub(crate) fn proof(
    key: &DpopKey,
    method: &str,
    base: &str,
    path: &str,
    token: Option<&str>,
) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let jti = format!("contract-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let issued_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(0));
    key.proof(&ProofFor {
        method,
        uri: &format!("{base}{path}"),
        issued_at,
        jti: &jti,
        access_token: token,
        nonce: None,
    })
}

/// A `dpop_invalid` refusal with the DPoP challenge.
fn refused(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 401, "{what}: {reply:?}");
    assert_eq!(reply.body["code"], "dpop_invalid", "{what}: {reply:?}");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("invalid_dpop_proof"),
        "{what}: {challenge}"
    );
}

/// Login, `/me`, the device list, verify, refresh and logout of a key-bound device; the
/// same token as `Bearer`, without a proof, with another key's proof or a replayed one is
/// refused, and a refresh token without the key consumes nothing.
pub fn dpop_bound_device(binary: &str) {
    let server = Server::start(binary, &[]);
    let base = server.base.as_str();
    let client = Client::new(base);
    let key = DpopKey::generate_es256(&OsRandom);
    let login_proof = proof(&key, "POST", base, "/auth/login", None);
    let login = client.login(ALICE, &[("DPoP", &login_proof)]);
    assert_eq!(login.status, 200, "{login:?}");
    assert_eq!(login.body["token_type"], "DPoP");
    let access = login.text("access_token");
    let refresh_token = login.text("refresh_token");
    let dpop_auth = format!("DPoP {access}");

    let me_proof = proof(&key, "GET", base, "/me", Some(&access));
    let me = client.send(
        "GET",
        "/me",
        &[("Authorization", &dpop_auth), ("DPoP", &me_proof)],
        None,
    );
    assert_eq!(me.status, 200, "{me:?}");
    let replayed = client.send(
        "GET",
        "/me",
        &[("Authorization", &dpop_auth), ("DPoP", &me_proof)],
        None,
    );
    refused(&replayed, "a replayed proof");
    refused(
        &client.get("/me", Some(&access)),
        "the bound token as Bearer",
    );
    refused(
        &client.send("GET", "/me", &[("Authorization", &dpop_auth)], None),
        "no proof",
    );
    let thief = DpopKey::generate_ed25519(&OsRandom);
    let stolen = proof(&thief, "GET", base, "/me", Some(&access));
    refused(
        &client.send(
            "GET",
            "/me",
            &[("Authorization", &dpop_auth), ("DPoP", &stolen)],
            None,
        ),
        "another key's proof",
    );
    let twice = proof(&key, "GET", base, "/me", Some(&access));
    refused(
        &client.send(
            "GET",
            "/me",
            &[
                ("Authorization", &dpop_auth),
                ("DPoP", &twice),
                ("DPoP", &twice),
            ],
            None,
        ),
        "two DPoP headers",
    );

    let list_proof = proof(&key, "GET", base, "/devices", Some(&access));
    let list = client.send(
        "GET",
        "/devices",
        &[("Authorization", &dpop_auth), ("DPoP", &list_proof)],
        None,
    );
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(list.body[0]["key_bound"], true, "{list:?}");

    let verified = client.post("/auth/verify", None, &json!({ "token": access }));
    assert_eq!(verified.status, 200, "{verified:?}");
    assert_eq!(
        verified.body["cnf"]["jkt"],
        key.thumbprint().as_str(),
        "verify reports the binding as cnf.jkt: {verified:?}"
    );

    let body = json!({ "refresh_token": refresh_token }).to_string();
    let without_key = client.send("POST", "/auth/refresh", &[], Some(body.as_bytes()));
    refused(&without_key, "a refresh token without the key");
    let refresh_proof = proof(&key, "POST", base, "/auth/refresh", None);
    let refreshed = client.send(
        "POST",
        "/auth/refresh",
        &[("DPoP", &refresh_proof)],
        Some(body.as_bytes()),
    );
    assert_eq!(
        refreshed.status, 200,
        "nothing was consumed before: {refreshed:?}"
    );
    assert_eq!(refreshed.body["token_type"], "DPoP");

    let access = refreshed.text("access_token");
    let dpop_auth = format!("DPoP {access}");
    let logout_proof = proof(&key, "POST", base, "/devices/logout", Some(&access));
    let logout = client.send(
        "POST",
        "/devices/logout",
        &[("Authorization", &dpop_auth), ("DPoP", &logout_proof)],
        None,
    );
    assert_eq!(logout.status, 204, "{logout:?}");
}

/// SPEC §9's replay cache shared through Redis: a proof accepted by one server is refused
/// by another that shares the Redis (and the database), while a fresh proof passes there.
pub fn dpop_replay_across_servers(binary: &str, redis_url: &str) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let dir = std::env::temp_dir().join(format!("td-dpop-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite:{}", dir.join("shared.db").display());
    // Two servers behind one name (a load balancer): both are addressed by it, so one
    // proof names the same URI on either, and only the shared replay cache can refuse it
    // on the second.
    let shared_host = "api.example.test";
    let shared_origin = format!("http://{shared_host}");
    let env = [
        ("TD_REDIS_URL", redis_url),
        ("TD_DATABASE_URL", database.as_str()),
        ("TD_PUBLIC_ORIGIN", shared_origin.as_str()),
    ];
    let first = Server::start(binary, &env);
    let second = Server::start(binary, &env);
    let key = DpopKey::generate_es256(&OsRandom);
    let login_proof = proof(&key, "POST", &shared_origin, "/auth/login", None);
    let login =
        Client::new(&first.base).login(ALICE, &[("DPoP", &login_proof), ("Host", shared_host)]);
    assert_eq!(login.status, 200, "{login:?}");
    let access = login.text("access_token");
    let auth = format!("DPoP {access}");

    let balanced = proof(
        &key,
        "GET",
        &format!("http://{shared_host}"),
        "/me",
        Some(&access),
    );
    let behind_one_name = |server: &Server| {
        Client::new(&server.base).send(
            "GET",
            "/me",
            &[
                ("Authorization", &auth),
                ("DPoP", &balanced),
                ("Host", shared_host),
            ],
            None,
        )
    };
    let used = behind_one_name(&first);
    assert_eq!(used.status, 200, "the first use passes: {used:?}");
    refused(
        &behind_one_name(&second),
        "the same proof on another server",
    );
    let fresh = proof(
        &key,
        "GET",
        &format!("http://{shared_host}"),
        "/me",
        Some(&access),
    );
    let again = Client::new(&second.base).send(
        "GET",
        "/me",
        &[
            ("Authorization", &auth),
            ("DPoP", &fresh),
            ("Host", shared_host),
        ],
        None,
    );
    assert_eq!(again.status, 200, "a fresh proof passes there: {again:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// RFC 9449 section 8 with `TD_DPOP_NONCE=true`: a proof without a server nonce is
/// answered `use_dpop_nonce` with a fresh `DPoP-Nonce`, and the same request with that
/// nonce in a new proof passes.
pub fn dpop_server_nonce(binary: &str) {
    let server = Server::start(binary, &[("TD_DPOP_NONCE", "true")]);
    let base = server.base.as_str();
    let client = Client::new(base);
    let key = DpopKey::generate_es256(&OsRandom);
    let first = client.login(
        ALICE,
        &[("DPoP", &proof(&key, "POST", base, "/auth/login", None))],
    );
    // A token route answers as RFC 9449 section 8 has an authorization server answer, so
    // that OAuth client libraries retry by themselves.
    assert_eq!(first.status, 400, "{first:?}");
    assert_eq!(first.body["error"], "use_dpop_nonce", "{first:?}");
    assert_eq!(first.body["code"], "use_dpop_nonce", "{first:?}");
    let nonce = first.header("dpop-nonce").expect("a DPoP-Nonce header");
    let with_nonce = key.proof(&ProofFor {
        method: "POST",
        uri: &format!("{base}/auth/login"),
        issued_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(0)),
        jti: "with-nonce",
        access_token: None,
        nonce: Some(&nonce),
    });
    let second = client.login(ALICE, &[("DPoP", &with_nonce)]);
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(second.body["token_type"], "DPoP");
    assert!(
        second.header("dpop-nonce").is_some(),
        "a token route's success hands out the next nonce: {second:?}"
    );

    // On a resource route the nonce is asked for with the DPoP challenge, once the key
    // matched; another key is refused as such (and reported), never asked for a nonce.
    let access = second.text("access_token");
    let auth = format!("DPoP {access}");
    let thief = DpopKey::generate_es256(&OsRandom);
    let stolen = client.send(
        "GET",
        "/me",
        &[
            ("Authorization", &auth),
            ("DPoP", &proof(&thief, "GET", base, "/me", Some(&access))),
        ],
        None,
    );
    refused(&stolen, "another key, with nonces on");
    let no_nonce = client.send(
        "GET",
        "/me",
        &[
            ("Authorization", &auth),
            ("DPoP", &proof(&key, "GET", base, "/me", Some(&access))),
        ],
        None,
    );
    assert_eq!(no_nonce.status, 401, "{no_nonce:?}");
    let challenge = no_nonce.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains("use_dpop_nonce") && challenge.contains("algs=\"ES256 EdDSA\""),
        "{challenge}"
    );
}

/// SPEC §9, "Order": a login's proof is checked before the password, so a bad proof is
/// answered the same with the right password and a wrong one (a guesser learns nothing).
pub fn dpop_login_proof_before_password(binary: &str) {
    let server = Server::start(binary, &[]);
    let base = server.base.as_str();
    let client = Client::new(base);
    let key = DpopKey::generate_es256(&OsRandom);
    for password in ["alice-password", "a wrong guess"] {
        let bad_proof = proof(&key, "POST", base, "/elsewhere", None);
        let login = client.login(("alice", password), &[("DPoP", &bad_proof)]);
        refused(&login, &format!("a bad proof with password {password:?}"));
    }
}

/// SPEC §9, "`htu` names this server": a `Host` that is not `host[:port]` is refused and
/// never spliced into a URI (`Host: evil.example/other/path?` once let a proof made for any
/// route, or another server, pass), and a proof for another origin than the server's is
/// refused even with a matching `Host`.
pub fn dpop_htu_names_this_server(binary: &str) {
    let server = Server::start(binary, &[]);
    let base = server.base.as_str();
    let client = Client::new(base);
    let key = DpopKey::generate_es256(&OsRandom);
    let login = client.login(
        ALICE,
        &[("DPoP", &proof(&key, "POST", base, "/auth/login", None))],
    );
    assert_eq!(login.status, 200, "{login:?}");
    let access = login.text("access_token");
    let auth = format!("DPoP {access}");
    let me = |dpop: &str, host: Option<&str>| {
        let mut headers = vec![("Authorization", auth.as_str()), ("DPoP", dpop)];
        if let Some(host) = host {
            headers.push(("Host", host));
        }
        client.send("GET", "/me", &headers, None)
    };
    // A proof made for another route of the key's, spliced through the Host header.
    let for_devices = proof(
        &key,
        "GET",
        "http://evil.example",
        "/other/path",
        Some(&access),
    );
    refused(
        &me(&for_devices, Some("evil.example/other/path?")),
        "a Host that is not host[:port]",
    );
    let elsewhere = proof(&key, "GET", "http://evil.example", "/me", Some(&access));
    refused(
        &me(&elsewhere, Some("evil.example")),
        "a proof for another origin, with a Host to match",
    );
    let good = me(&proof(&key, "GET", base, "/me", Some(&access)), None);
    assert_eq!(good.status, 200, "{good:?}");
}
