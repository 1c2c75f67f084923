//! The "Your devices" page (feature `page`), mounted with one call.

use axum::Router;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use trusted_devices_core::http::{ApiResponse, page};

use crate::response::into_response;

/// The "Your devices" page of SPEC §8 at `/`, `/app.js` and `/app.css`, with its security
/// headers (a strict Content-Security-Policy, `nosniff`, no referrer, `no-store`): merge it
/// into the application's router beside [`router`](crate::router). The page signs in
/// through the application's `POST /auth/login` (`{username, password}`, cookie transport)
/// and uses the library's routes by cookie, so the [`Devices`](crate::Devices) need
/// cookies on.
///
/// ```
/// use axum::Router;
/// use trusted_devices_axum::Devices;
/// use trusted_devices_core::http::CookieSettings;
/// use trusted_devices_core::{KeyRing, SigningKey, TrustedDevices};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use axum::body::Body;
/// # use axum::http::Request;
/// # use tower::ServiceExt;
/// let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
/// let devices = Devices::new(TrustedDevices::builder(KeyRing::new(key)).build())
///     .cookies(CookieSettings::new(vec!["https://app.example.com".into()]));
/// let app: Router = Router::new()
///     .merge(trusted_devices_axum::router(&devices))
///     .merge(trusted_devices_axum::page_router());
///
/// let page = app.oneshot(Request::get("/").body(Body::empty())?).await?;
/// assert_eq!(page.status(), 200);
/// assert!(page.headers()["content-security-policy"].to_str()?.contains("script-src 'self'"));
/// # Ok(()) }
/// ```
pub fn page_router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    for path in page::paths() {
        router = router.route(path, get(serve));
    }
    router
}

async fn serve(uri: Uri) -> Response {
    let missing = || ApiResponse::problem(404, "not_found", "no such page");
    into_response(page::asset(uri.path()).unwrap_or_else(missing))
}
