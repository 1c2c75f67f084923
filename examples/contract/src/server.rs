use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// An example server running on a free loopback port with a fresh SQLite file; killed and
/// cleaned up on drop.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    child: Child,
    dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

const START_TIMEOUT: Duration = Duration::from_secs(60);

fn scratch_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("td-contract-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn command(binary: &str, dir: &PathBuf, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TD_ADDR", "127.0.0.1:0")
        .env(
            "TD_DATABASE_URL",
            format!("sqlite:{}", dir.join("devices.db").display()),
        )
        .env("TD_SECRET", "contract-test-secret-of-32-bytes!!")
        .env("RUST_LOG", "warn")
        // Rule K is tested on its own (`rate_limits`); the other cases log in freely.
        .env("TD_RATE_LIMITS", "off")
        .current_dir(dir);
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

impl Server {
    /// Starts `binary` with `env` on top of the defaults and waits for its
    /// `listening on http://…` line.
    pub fn start(binary: &str, env: &[(&str, &str)]) -> Self {
        let dir = scratch_dir();
        let mut child = command(binary, &dir, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        // Standard error is passed on as it comes, and kept for `log_lines`.
        let log = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                kept.lock().unwrap().push(line);
            }
        });
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(base) = line.strip_prefix("listening on ") {
                    let _ = sender.send(base.trim().to_owned());
                }
            }
        });
        let base = receiver
            .recv_timeout(START_TIMEOUT)
            .expect("the server announces its address");
        Self {
            base,
            child,
            dir,
            log,
        }
    }

    /// What the server wrote to standard error so far, a line each.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits up to five seconds for a standard-error line containing `text`.
    pub fn wait_for_log(&self, text: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self
                .log_lines()
                .into_iter()
                .find(|line| line.contains(text))
            {
                return Some(line);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc is readable");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }

    /// Sends SIGTERM and waits for the process to end.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `binary` with a bad `env` and returns its exit status and standard error.
pub fn start_failure(binary: &str, env: &[(&str, &str)]) -> (ExitStatus, String) {
    let dir = scratch_dir();
    let output = command(binary, &dir, env)
        .output()
        .expect("the server binary starts");
    let _ = std::fs::remove_dir_all(&dir);
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
