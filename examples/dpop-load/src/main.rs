//! A DPoP load generator (SPEC §9) for `scripts/bench-dpop-load`, against an example server
//! started with rate limits off:
//!
//! ```text
//! dpop-load honest BASE DEVICES SECONDS THREADS
//!     DEVICES key-bound devices (ES256), then SECONDS of GET /me, each request with a
//!     fresh proof, THREADS at a time; prints the answers by status and the rate.
//! dpop-load bearer BASE SECONDS THREADS
//!     the same GET /me for SECONDS with one bearer device's token: the baseline of the
//!     honest run, by the same client.
//! dpop-load attacker BASE REQUESTS THREADS
//!     one account's bound device, then REQUESTS of GET /me with its token and proofs by
//!     fresh keys (issue 29's high finding), THREADS at a time, while another user's bound
//!     device sends GET /me and a new user logs in with a proof every 100 ms; prints how
//!     each was answered.
//! ```
//!
//! Demo users `alice`, `bob` and `mallory` (password: the name, `-password`) must exist.
//! A benchmark tool: bounded in requests and time, loopback only, stops by itself.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use trusted_devices_core::OsRandom;
use trusted_devices_core::dpop::{DpopKey, ProofFor};
use ureq::Agent;

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["honest", base, devices, seconds, threads] => honest(
            base,
            number(devices),
            Duration::from_secs(number(seconds) as u64),
            number(threads),
        ),
        ["attacker", base, requests, threads] => attacker(base, number(requests), number(threads)),
        ["bearer", base, seconds, threads] => bearer(
            base,
            Duration::from_secs(number(seconds) as u64),
            number(threads),
        ),
        _ => Err(
            "usage: dpop-load honest BASE DEVICES SECONDS THREADS | attacker BASE REQUESTS THREADS"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn number(text: &str) -> usize {
    text.parse().unwrap_or(0)
}

fn new_agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(0))
}

/// A proof by `key` for `method` `base``path`, now, with a fresh `jti`.
fn proof(key: &DpopKey, method: &str, base: &str, path: &str, token: Option<&str>) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let jti = format!(
        "load-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    key.proof(&ProofFor {
        method,
        uri: &format!("{base}{path}"),
        issued_at: unix_now(),
        jti: &jti,
        access_token: token,
        nonce: None,
    })
}

/// A device of `user` bound to a new key: the key and its access token.
fn bound_login(
    agent: &Agent,
    base: &str,
    user: &str,
    key: DpopKey,
) -> Result<(DpopKey, String), String> {
    let login_proof = proof(&key, "POST", base, "/auth/login", None);
    let token = login(agent, base, user, Some(&login_proof))?;
    Ok((key, token))
}

/// `user`'s login (with a DPoP proof, if given): its access token.
fn login(agent: &Agent, base: &str, user: &str, dpop: Option<&str>) -> Result<String, String> {
    let body = json!({"username": user, "password": format!("{user}-password")});
    let mut request = agent.post(format!("{base}/auth/login"));
    if let Some(dpop) = dpop {
        request = request.header("DPoP", dpop);
    }
    let mut response = request
        .send_json(&body)
        .map_err(|error| format!("login: {error}"))?;
    let status = response.status().as_u16();
    let reply: Value = response
        .body_mut()
        .read_json()
        .map_err(|error| format!("login {status}: {error}"))?;
    let token = reply
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("login {status}: {reply}"))?
        .to_owned();
    Ok(token)
}

/// `GET /me` with `token` and a fresh proof by `key`; the status (0: no answer).
fn me(agent: &Agent, base: &str, key: &DpopKey, token: &str) -> u16 {
    let dpop = proof(key, "GET", base, "/me", Some(token));
    agent
        .get(format!("{base}/me"))
        .header("Authorization", &format!("DPoP {token}"))
        .header("DPoP", &dpop)
        .call()
        .map_or(0, |response| response.status().as_u16())
}

type Tally = Arc<Mutex<BTreeMap<u16, u64>>>;

fn count(tally: &Tally, status: u16) {
    if let Ok(mut tally) = tally.lock() {
        *tally.entry(status).or_default() += 1;
    }
}

fn print(label: &str, tally: &Tally, elapsed: Duration) {
    let tally = tally.lock().map(|tally| tally.clone()).unwrap_or_default();
    let total: u64 = tally.values().sum();
    let non_2xx: u64 = tally
        .iter()
        .filter(|(status, _)| !(200..300).contains(*status))
        .map(|(_, count)| count)
        .sum();
    let rate = total as f64 / elapsed.as_secs_f64().max(0.001);
    println!(
        "{label}: {total} requests in {:.1} s ({rate:.0}/s), non-2xx {non_2xx}, by status {tally:?}",
        elapsed.as_secs_f64()
    );
}

fn honest(base: &str, devices: usize, duration: Duration, threads: usize) -> Result<(), String> {
    let agent = new_agent();
    let users = ["alice", "bob", "mallory"];
    let mut bound = Vec::with_capacity(devices);
    for index in 0..devices {
        let user = users.get(index % users.len()).copied().unwrap_or("alice");
        bound.push(bound_login(
            &agent,
            base,
            user,
            DpopKey::generate_es256(&OsRandom),
        )?);
    }
    let bound = Arc::new(bound);
    let tally: Tally = Arc::default();
    let started = Instant::now();
    let workers: Vec<_> = (0..threads.max(1))
        .map(|worker| {
            let (bound, tally, base) = (Arc::clone(&bound), Arc::clone(&tally), base.to_owned());
            std::thread::spawn(move || {
                let agent = new_agent();
                let mut next = worker;
                while started.elapsed() < duration {
                    if let Some((key, token)) = bound.get(next % bound.len().max(1)) {
                        count(&tally, me(&agent, &base, key, token));
                    }
                    next += threads;
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    print(
        &format!("honest, {devices} devices"),
        &tally,
        started.elapsed(),
    );
    Ok(())
}

fn bearer(base: &str, duration: Duration, threads: usize) -> Result<(), String> {
    let token = login(&new_agent(), base, "alice", None)?;
    let tally: Tally = Arc::default();
    let started = Instant::now();
    let workers: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (tally, token, base) = (Arc::clone(&tally), token.clone(), base.to_owned());
            std::thread::spawn(move || {
                let agent = new_agent();
                while started.elapsed() < duration {
                    let status = agent
                        .get(format!("{base}/me"))
                        .header("Authorization", &format!("Bearer {token}"))
                        .call()
                        .map_or(0, |response| response.status().as_u16());
                    count(&tally, status);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    print("bearer, one device", &tally, started.elapsed());
    Ok(())
}

fn attacker(base: &str, requests: usize, threads: usize) -> Result<(), String> {
    let agent = new_agent();
    let (_, mallory_token) =
        bound_login(&agent, base, "mallory", DpopKey::generate_es256(&OsRandom))?;
    let alice = Arc::new(bound_login(
        &agent,
        base,
        "alice",
        DpopKey::generate_es256(&OsRandom),
    )?);
    let attack: Tally = Arc::default();
    let others: Tally = Arc::default();
    let logins: Tally = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let bystander = {
        let (alice, others, logins, done, base) = (
            Arc::clone(&alice),
            Arc::clone(&others),
            Arc::clone(&logins),
            Arc::clone(&done),
            base.to_owned(),
        );
        std::thread::spawn(move || {
            let agent = new_agent();
            while !done.load(Ordering::Relaxed) {
                count(&others, me(&agent, &base, &alice.0, &alice.1));
                let login = bound_login(&agent, &base, "bob", DpopKey::generate_ed25519(&OsRandom));
                count(&logins, if login.is_ok() { 200 } else { 0 });
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let workers: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (attack, sent, token, base) = (
                Arc::clone(&attack),
                Arc::clone(&sent),
                mallory_token.clone(),
                base.to_owned(),
            );
            std::thread::spawn(move || {
                let agent = new_agent();
                while sent.fetch_add(1, Ordering::Relaxed) < requests as u64 {
                    // A fresh key per request: never the device's.
                    let fresh = DpopKey::generate_ed25519(&OsRandom);
                    count(&attack, me(&agent, &base, &fresh, &token));
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    done.store(true, Ordering::Relaxed);
    let _ = bystander.join();
    let elapsed = started.elapsed();
    print("attacker (fresh keys, one account)", &attack, elapsed);
    print("another user's DPoP /me meanwhile", &others, elapsed);
    print("DPoP logins meanwhile", &logins, elapsed);
    Ok(())
}
