//! Issue 9 over real HTTP: a store going down and coming back, slow clients, shutdown
//! deadlines, login floods, strict bodies and no-store answers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{ALICE, Client, Reply, Server, proxy::Proxy};

/// The bound SPEC and issue 9 set on failing and on recovering.
const ONE_SECOND: Duration = Duration::from_secs(1);

/// `host:port` of a `scheme://[user@]host:port/...` URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// Calls `request` from four threads until stopped: the load under which the store goes
/// down and comes back. Each answer must be one of `allowed`; the worst latency is kept.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<Duration>>,
}

impl Load {
    fn start(request: impl Fn() -> Reply + Send + Sync + 'static, allowed: &'static [u16]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let request = Arc::new(request);
        let threads = (0..4)
            .map(|_| {
                let (stop, request) = (Arc::clone(&stop), Arc::clone(&request));
                std::thread::spawn(move || {
                    let mut worst = Duration::ZERO;
                    while !stop.load(Ordering::SeqCst) {
                        let started = Instant::now();
                        let reply = request();
                        worst = worst.max(started.elapsed());
                        assert!(allowed.contains(&reply.status), "under load: {reply:?}");
                    }
                    worst
                })
            })
            .collect();
        Self { stop, threads }
    }

    fn finish(self) -> Duration {
        self.stop.store(true, Ordering::SeqCst);
        self.threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .max()
            .unwrap_or_default()
    }
}

/// While the store is down every answer is 503 `storage_unavailable` within a second, and
/// within a second of it coming back `probe` succeeds again; all under load. In the first
/// `notice` after the store goes, a device still cached may be served (200): the time the
/// revocation feed takes to see its connection gone, after which the cache is bypassed.
fn outage(proxy: &mut Proxy, probe: &(dyn Fn() -> Reply + Sync), healthy: u16, notice: Duration) {
    proxy.down();
    let went = Instant::now();
    while went.elapsed() < notice {
        let reply = probe();
        assert!(
            [healthy, 503].contains(&reply.status),
            "store going: {reply:?}"
        );
    }
    for _ in 0..5 {
        let started = Instant::now();
        let reply = probe();
        let took = started.elapsed();
        assert_eq!(reply.status, 503, "store down: {reply:?}");
        assert_eq!(reply.body["code"], "storage_unavailable");
        assert!(took < ONE_SECOND, "fail fast: a 503 took {took:?}");
    }
    proxy.up();
    let back = Instant::now();
    loop {
        let reply = probe();
        if reply.status == healthy {
            break;
        }
        assert!(
            back.elapsed() < ONE_SECOND,
            "still failing {:?} after the store came back: {reply:?}",
            back.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fail fast, PostgreSQL: with the device cache off every device check reads the
/// database; with it on (the default), the cache is bypassed once the revocation feed sees
/// its connection gone, which takes milliseconds (a 500 ms allowance here, for slow CI).
pub fn postgres_outage(binary: &str, url: &str) {
    postgres_outage_with(binary, url, "0s", Duration::ZERO);
    postgres_outage_with(binary, url, "1s", Duration::from_millis(500));
}

fn postgres_outage_with(binary: &str, url: &str, cache_ttl: &str, notice: Duration) {
    let mut proxy = Proxy::start(&host_port(url));
    let through_proxy = url.replacen(&host_port(url), &format!("127.0.0.1:{}", proxy.port), 1);
    let server = Server::start(
        binary,
        &[
            ("TD_DATABASE_URL", &through_proxy),
            ("TD_STORAGE_TIMEOUT", "300ms"),
            ("TD_DEVICE_CACHE_TTL", cache_ttl),
        ],
    );
    let client = Arc::new(Client::new(&server.base));
    let login = client.login(ALICE, &[]);
    assert_eq!(login.status, 200, "{login:?}");
    let access = login.text("access_token");
    let me = {
        let (client, access) = (Arc::clone(&client), access.clone());
        move || client.get("/me", Some(&access))
    };
    let load = Load::start(me.clone(), &[200, 503]);
    outage(&mut proxy, &me, 200, notice);
    let worst = load.finish();
    assert!(worst < ONE_SECOND, "a request under load took {worst:?}");
}

/// Fail fast, Redis: logins store their refresh token there.
pub fn redis_outage(binary: &str, url: &str) {
    let mut proxy = Proxy::start(&host_port(url));
    let through_proxy = format!("redis://127.0.0.1:{}", proxy.port);
    let server = Server::start(
        binary,
        &[
            ("TD_REDIS_URL", &through_proxy),
            ("TD_STORAGE_TIMEOUT", "300ms"),
        ],
    );
    let client = Arc::new(Client::new(&server.base));
    let login = {
        let client = Arc::clone(&client);
        move || client.login(ALICE, &[])
    };
    assert_eq!(login().status, 200);
    let load = Load::start(login.clone(), &[200, 503]);
    outage(&mut proxy, &login, 200, Duration::ZERO);
    let worst = load.finish();
    assert!(worst < ONE_SECOND, "a login under load took {worst:?}");
}

/// Opens a connection and sends half a request head.
fn half_a_request(server: &Server) -> TcpStream {
    let address = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    stream
}

/// Slow clients: one that sends half a request head is disconnected after the header-read
/// timeout, and one connected at SIGTERM does not keep the server from exiting within the
/// shutdown deadline.
pub fn slow_clients(binary: &str) {
    let server = Server::start(
        binary,
        &[
            ("TD_HEADER_READ_TIMEOUT", "1s"),
            ("TD_SHUTDOWN_TIMEOUT", "1s"),
        ],
    );
    let mut stalled = half_a_request(&server);
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    // Either a clean close or a 408 and a close: both end the read well before 10 s.
    let _ = stalled.read_to_end(&mut rest);
    let held = started.elapsed();
    assert!(
        held < Duration::from_secs(5),
        "a half-sent head held its connection for {held:?}"
    );

    let server = Server::start(
        binary,
        &[
            ("TD_HEADER_READ_TIMEOUT", "30s"),
            ("TD_SHUTDOWN_TIMEOUT", "1s"),
        ],
    );
    let _stalled = half_a_request(&server);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let status = server.terminate();
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(5),
        "a slow client kept a SIGTERM'd server up for {took:?}"
    );
}

/// Login floods: 120 concurrent wrong-password logins, two checks at a time and four
/// waiting: the rest are 429 `rate_limited` with `Retry-After`, wrong name and wrong
/// password alike, and the server's memory stays bounded.
pub fn login_flood(binary: &str) {
    let server = Server::start(
        binary,
        &[
            ("TD_PASSWORD_HASH_CONCURRENCY", "2"),
            ("TD_PASSWORD_HASH_QUEUE", "4"),
        ],
    );
    let base = server.base.clone();
    let replies: Vec<Reply> = (0..120)
        .map(|i| {
            let base = base.clone();
            std::thread::spawn(move || {
                let name = if i % 2 == 0 { "alice" } else { "mallory" };
                Client::new(&base).login((name, "wrong-password"), &[])
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let mut limited = 0;
    for reply in &replies {
        match reply.status {
            401 => assert_eq!(reply.body["code"], "invalid_credentials"),
            429 => {
                limited += 1;
                assert_eq!(reply.body["code"], "rate_limited");
                assert_eq!(reply.header("retry-after").as_deref(), Some("1"));
                assert_eq!(reply.body["retry_after"], 1);
            }
            _ => panic!("login flood: {reply:?}"),
        }
    }
    assert!(limited > 0, "120 logins at once, none refused");
    let peak = server.peak_memory_kib();
    // Each argon2 check takes about 19 MiB; unbounded, 120 of them take over 2 GiB, and
    // with fresh memory per check freed into per-thread arenas they took 850 MiB to 1.1 GiB
    // (issue 23, finding 7). With the pooled working memory, the bound of the issue holds.
    assert!(
        peak < 256 * 1024,
        "login flood: the server peaked at {peak} KiB"
    );
    let after = Client::new(&base).login(ALICE, &[]);
    assert_eq!(after.status, 200, "a flood locks no one out: {after:?}");
}

/// Strict bodies and no-store answers through the example's own routes.
pub fn strict_bodies_and_no_store(binary: &str) {
    let server = Server::start(binary, &[]);
    let client = Client::new(&server.base);
    let array = client.post_raw("/auth/login", br#"["alice","alice-password"]"#);
    assert_eq!(array.status, 422, "{array:?}");
    assert_eq!(array.body["code"], "invalid_request");
    let login = client.login(ALICE, &[]);
    let access = login.text("access_token");
    let device = login.text("device_id");
    let pwned = client.patch(
        &format!("/devices/{device}"),
        Some(&access),
        &json!(["pwned", false, false]),
    );
    assert_eq!(pwned.status, 422, "{pwned:?}");
    for reply in [
        login,
        client.get("/me", Some(&access)),
        client.get("/devices", Some(&access)),
        client.get(&format!("/devices/{device}"), Some(&access)),
        client.post("/auth/verify", None, &json!({ "token": access })),
        client.get("/me", Some("not-a-token")),
        array,
    ] {
        assert_eq!(
            reply.header("cache-control").as_deref(),
            Some("no-store"),
            "{reply:?}"
        );
    }
    let listed = client.get("/devices", Some(&access));
    assert_eq!(listed.body[0]["can_delete_other_devices"], true);
}
