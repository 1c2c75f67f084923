//! A TCP proxy that can go silent without closing anything: the half-open connection of a
//! dead peer or a middlebox that dropped its state, for testing that a revocation feed's
//! heartbeat notices what its socket cannot (SPEC §4 T).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// How often a frozen pipe looks whether it may go on.
const THAW_POLL: Duration = Duration::from_millis(10);

/// Forwards loopback connections to `upstream` until [frozen](Self::freeze): then every
/// connection, open or new, stays open and carries nothing, until [thawed](Self::thaw).
/// Dropping the proxy stops accepting.
#[derive(Debug)]
pub struct FreezingProxy {
    address: SocketAddr,
    frozen: Arc<AtomicBool>,
    accepting: tokio::task::JoinHandle<()>,
}

impl FreezingProxy {
    /// Listens on a free loopback port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let frozen = Arc::new(AtomicBool::new(false));
        let accepting = tokio::spawn(accept(listener, upstream, Arc::clone(&frozen)));
        Ok(Self {
            address,
            frozen,
            accepting,
        })
    }

    /// A proxy in front of the loopback server a URL names (`…127.0.0.1:<port>…`, as the
    /// test scripts' PostgreSQL and Redis URLs do), and the URL rewritten to go through it.
    pub async fn in_front_of(url: &str) -> io::Result<(Self, String)> {
        let not_loopback = || io::Error::new(io::ErrorKind::InvalidInput, "no 127.0.0.1:<port>");
        let (head, rest) = url.split_once("127.0.0.1:").ok_or_else(not_loopback)?;
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (port, tail) = rest.split_at(digits);
        let port: u16 = port.parse().map_err(|_| not_loopback())?;
        let proxy = Self::start(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        let url = format!("{head}{}{tail}", proxy.address());
        Ok((proxy, url))
    }

    /// Where clients connect.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// From now on nothing passes, in either direction; no connection is closed.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    /// Bytes pass again.
    pub fn thaw(&self) {
        self.frozen.store(false, Ordering::SeqCst);
    }
}

impl Drop for FreezingProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, frozen: Arc<AtomicBool>) {
    while let Ok((client, _)) = listener.accept().await {
        tokio::spawn(forward(client, upstream, Arc::clone(&frozen)));
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, frozen: Arc<AtomicBool>) {
    // A new connection while frozen hangs, as one to a vanished host would.
    wait_while_frozen(&frozen).await;
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_reads, client_writes) = client.into_split();
    let (server_reads, server_writes) = server.into_split();
    tokio::join!(
        pipe(client_reads, server_writes, Arc::clone(&frozen)),
        pipe(server_reads, client_writes, frozen),
    );
}

async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, frozen: Arc<AtomicBool>) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        wait_while_frozen(&frozen).await;
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        // What was read just before a freeze is held back, not delivered.
        wait_while_frozen(&frozen).await;
        let Some(bytes) = buffer.get(..read) else {
            break;
        };
        if to.write_all(bytes).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

async fn wait_while_frozen(frozen: &AtomicBool) {
    while frozen.load(Ordering::SeqCst) {
        tokio::time::sleep(THAW_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_url_is_rewritten_to_go_through_the_proxy() {
        let (proxy, url) = FreezingProxy::in_front_of("postgres://td@127.0.0.1:5432/postgres")
            .await
            .unwrap();
        assert_eq!(url, format!("postgres://td@{}/postgres", proxy.address()));
        assert!(
            FreezingProxy::in_front_of("redis://localhost:6379")
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn forwards_until_frozen_then_carries_nothing_and_closes_nothing() {
        let echo = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let upstream = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = echo.accept().await.unwrap();
            let mut buffer = [0_u8; 64];
            while let Ok(read) = socket.read(&mut buffer).await {
                if read == 0 || socket.write_all(&buffer[..read]).await.is_err() {
                    break;
                }
            }
        });
        let proxy = FreezingProxy::start(upstream).await.unwrap();
        let mut client = TcpStream::connect(proxy.address()).await.unwrap();
        let mut answer = [0_u8; 4];
        client.write_all(b"ping").await.unwrap();
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"ping");

        proxy.freeze();
        client.write_all(b"pong").await.unwrap();
        let silent =
            tokio::time::timeout(Duration::from_millis(200), client.read_exact(&mut answer)).await;
        assert!(
            silent.is_err(),
            "nothing arrives while frozen, and nothing closes"
        );

        proxy.thaw();
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"pong", "held back, then delivered");
    }
}
