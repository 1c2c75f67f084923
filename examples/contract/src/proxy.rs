//! A loopback TCP proxy that can be taken down and brought back on the same port: from a
//! server's side, exactly a store that stops (every connection closed, new ones refused)
//! and restarts, while the real PostgreSQL or Redis behind it keeps the data.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The proxy; stopped and its connections closed on drop.
pub struct Proxy {
    /// The loopback port it listens on while up.
    pub port: u16,
    target: SocketAddr,
    running: Option<Running>,
}

struct Running {
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    /// A proxy to `target` (`host:port`), up on a free loopback port.
    pub fn start(target: &str) -> Self {
        let target = std::net::ToSocketAddrs::to_socket_addrs(target)
            .unwrap()
            .next()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Self {
            port,
            target,
            running: None,
        };
        proxy.serve(listener);
        proxy
    }

    /// Closes every connection and refuses new ones.
    pub fn down(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop.store(true, Ordering::SeqCst);
            let _ = running.acceptor.join();
            for connection in running.connections.lock().unwrap().drain(..) {
                let _ = connection.shutdown(Shutdown::Both);
            }
        }
    }

    /// Accepts again on the same port.
    pub fn up(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (flag, tracked, target) = (Arc::clone(&stop), Arc::clone(&connections), self.target);
        let acceptor = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => relay(client, target, &tracked),
                    Err(error) if error.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => break,
                }
            }
        });
        self.running = Some(Running {
            stop,
            connections,
            acceptor,
        });
    }
}

/// Copies bytes both ways between `client` and a new connection to `target`.
fn relay(client: TcpStream, target: SocketAddr, tracked: &Mutex<Vec<TcpStream>>) {
    let Ok(upstream) = TcpStream::connect(target) else {
        return;
    };
    let _ = client.set_nonblocking(false);
    let mut list = tracked.lock().unwrap();
    for stream in [&client, &upstream] {
        if let Ok(clone) = stream.try_clone() {
            list.push(clone);
        }
    }
    drop(list);
    for (mut from, mut to) in [
        (client.try_clone(), upstream.try_clone()),
        (upstream.try_clone(), client.try_clone()),
    ]
    .into_iter()
    .filter_map(|(from, to)| Some((from.ok()?, to.ok()?)))
    {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
    }
}
