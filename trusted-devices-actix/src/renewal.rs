//! Cookie renewals on an application's own routes (SPEC §8): a cookie request past half its
//! access token's life is renewed by [`CurrentDevice`](crate::CurrentDevice), and this
//! middleware writes the fresh access cookie onto the route's answer. Without it the
//! renewal is thrown away and every following request renews again (each moving the idle
//! deadline and telling the revocation feed).

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::middleware::Next;
use trusted_devices_core::http::RenewalCookie;

/// Marks a request as passing through [`write_renewals`].
#[derive(Clone, Copy)]
pub(crate) struct RenewalsWritten;

/// Leaves `renewal` in the request's extensions for the middleware, if the application
/// installed it; otherwise says once, in the log, that renewals are lost.
pub(crate) fn leave_renewal(request: &actix_web::HttpRequest, renewal: RenewalCookie) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let mut extensions = request.extensions_mut();
    if extensions.contains::<RenewalsWritten>() {
        extensions.insert(renewal);
    } else if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "trusted-devices: a cookie renewal on an application route was dropped; add \
             .wrap(actix_web::middleware::from_fn(trusted_devices_actix::write_renewals))"
        );
    }
}

/// The middleware that writes cookie renewals made by [`CurrentDevice`](crate::CurrentDevice)
/// onto the answers of the application's routes:
/// `.wrap(actix_web::middleware::from_fn(trusted_devices_actix::write_renewals))`. An answer
/// that already sets the access cookie (a sign-out clearing it) is left as it is.
pub async fn write_renewals(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    request.extensions_mut().insert(RenewalsWritten);
    let mut response = next.call(request).await?;
    let renewal = response
        .request()
        .extensions_mut()
        .remove::<RenewalCookie>();
    if let Some(renewal) = renewal {
        let set_cookies = response.headers().get_all(SET_COOKIE);
        if !renewal.is_set_by(set_cookies.map(HeaderValue::as_bytes))
            && let Ok(value) = HeaderValue::try_from(renewal.set_cookie)
        {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    Ok(response)
}
