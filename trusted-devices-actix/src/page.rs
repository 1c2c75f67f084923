//! The "Your devices" page (feature `page`), mounted with one call.

use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use trusted_devices_core::http::{ApiResponse, page};

use crate::response::into_response;

/// Mounts the "Your devices" page of SPEC §8 at `/`, `/app.js` and `/app.css`, with its
/// security headers (a strict Content-Security-Policy, `nosniff`, no referrer,
/// `no-store`): `App::new().configure(trusted_devices_actix::configure_page)`. The page
/// signs in through the application's `POST /auth/login` (`{username, password}`, cookie
/// transport) and uses the library's routes by cookie, so the
/// [`Devices`](crate::Devices) need cookies on.
///
/// ```
/// use actix_web::App;
/// use actix_web::test::{TestRequest, call_service, init_service};
/// use trusted_devices_actix::Devices;
/// use trusted_devices_core::http::CookieSettings;
/// use trusted_devices_core::{KeyRing, SigningKey, TrustedDevices};
///
/// # #[actix_web::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let key = SigningKey::new("k1", b"a secret of at least 32 bytes!!!")?;
/// let devices = Devices::new(TrustedDevices::builder(KeyRing::new(key)).build())
///     .cookies(CookieSettings::new(vec!["https://app.example.com".into()]));
/// let app = init_service(
///     App::new()
///         .configure(|config| trusted_devices_actix::configure(&devices, config))
///         .configure(trusted_devices_actix::configure_page),
/// )
/// .await;
///
/// let page = call_service(&app, TestRequest::get().uri("/").to_request()).await;
/// assert_eq!(page.status(), 200);
/// let policy = page.headers().get("content-security-policy").ok_or("no policy")?;
/// assert!(policy.to_str()?.contains("script-src 'self'"));
/// # Ok(()) }
/// ```
pub fn configure_page(config: &mut ServiceConfig) {
    for path in page::paths() {
        config.route(path, web::get().to(serve));
    }
}

async fn serve(request: HttpRequest) -> HttpResponse {
    let missing = || ApiResponse::problem(404, "not_found", "no such page");
    into_response(page::asset(request.path()).unwrap_or_else(missing))
}
