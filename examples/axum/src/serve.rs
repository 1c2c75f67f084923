//! Serving with the bounds `axum::serve` lacks: a client slower than the header-read
//! timeout to send its request head is disconnected, and a graceful shutdown lets
//! in-flight requests finish but ends after the shutdown deadline whatever is left.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::Service as _;
use trusted_devices_axum::axum::Router;
use trusted_devices_axum::axum::extract::ConnectInfo;
use trusted_devices_axum::axum::http::Request;
use trusted_devices_example_common::ServerLimits;

/// How long to back off after a failed `accept` (out of file descriptors, say).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` resolves, then for at most the shutdown
/// deadline while in-flight requests finish. Each request carries its peer address as
/// `ConnectInfo<SocketAddr>`, as `into_make_service_with_connect_info` would give it.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().call(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that stalls or leaves is its own business; nothing to report.
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            deadline = ?limits.shutdown_timeout,
            "connections still open at the shutdown deadline are dropped"
        );
    }
}
