//! Cookie renewals on an application's own routes (SPEC §8): a cookie request past half its
//! access token's life is renewed by [`CurrentDevice`](crate::CurrentDevice), and this
//! layer writes the fresh access cookie onto the route's answer. Without it the renewal is
//! thrown away and every following request renews again (each moving the idle deadline and
//! telling the revocation feed).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::middleware::Next;
use axum::response::IntoResponse;
use trusted_devices_core::http::RenewalCookie;

/// Where the extractor leaves a renewal for [`write_renewals`].
#[derive(Clone, Default)]
pub(crate) struct RenewalSlot(Arc<Mutex<Option<RenewalCookie>>>);

impl RenewalSlot {
    fn take(&self) -> Option<RenewalCookie> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Hands `renewal` to the layer, if the application installed it; otherwise says once, in
/// the log, that renewals are lost.
pub(crate) fn leave_renewal(slot: Option<&RenewalSlot>, renewal: RenewalCookie) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    match slot {
        Some(slot) => *slot.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(renewal),
        None if !WARNED.swap(true, Ordering::Relaxed) => tracing::warn!(
            "trusted-devices: a cookie renewal on an application route was dropped; add \
             .layer(axum::middleware::from_fn(trusted_devices_axum::write_renewals))"
        ),
        None => {}
    }
}

/// The middleware that writes cookie renewals made by [`CurrentDevice`](crate::CurrentDevice)
/// onto the answers of the application's routes:
/// `.layer(axum::middleware::from_fn(trusted_devices_axum::write_renewals))`. An answer that
/// already sets the access cookie (a sign-out clearing it) is left as it is.
pub async fn write_renewals(mut request: Request, next: Next) -> impl IntoResponse {
    let slot = RenewalSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    if let Some(renewal) = slot.take() {
        let set_cookies = response.headers().get_all(SET_COOKIE);
        if !renewal.is_set_by(set_cookies.iter().map(HeaderValue::as_bytes))
            && let Ok(value) = HeaderValue::try_from(renewal.set_cookie)
        {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}
