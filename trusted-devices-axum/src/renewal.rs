//! Cookie renewals on an application's own routes (SPEC §8): a cookie request past half its
//! access token's life is renewed by [`CurrentDevice`](crate::CurrentDevice), and this
//! layer writes the fresh access cookie onto the route's answer. Without it the renewal is
//! thrown away and every following request renews again (each moving the idle deadline and
//! telling the revocation feed).
//!
//! A tower layer of its own rather than `axum::middleware::from_fn`: that one boxes each
//! request's future and clones the service, which cost `/me` 8 % more instructions; this
//! one does nothing but look for a `Cookie` header on a request that carries none.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderValue, Request, Response};
use tower_layer::Layer;
use tower_service::Service;
use trusted_devices_core::http::RenewalCookie;

/// Where the extractor leaves a renewal for the layer.
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
             .layer(trusted_devices_axum::WriteRenewals) over the routes that authenticate"
        ),
        None => {}
    }
}

/// The layer that writes cookie renewals made by [`CurrentDevice`](crate::CurrentDevice)
/// onto the answers of the application's routes: `.layer(WriteRenewals)` over the routes
/// that authenticate (others need not pay for it). An answer that already sets the access
/// cookie (a sign-out clearing it) is left as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteRenewals;

impl<S> Layer<S> for WriteRenewals {
    type Service = WriteRenewalsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WriteRenewalsService { inner }
    }
}

/// The service of [`WriteRenewals`] around a route.
#[derive(Debug, Clone)]
pub struct WriteRenewalsService<S> {
    inner: S,
}

impl<S, In, Out> Service<Request<In>> for WriteRenewalsService<S>
where
    S: Service<Request<In>, Response = Response<Out>>,
{
    type Response = Response<Out>;
    type Error = S::Error;
    type Future = WithRenewal<S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: Request<In>) -> Self::Future {
        // Only a cookie request can be renewed: others (bearer tokens) pay nothing.
        let slot = request.headers().contains_key(COOKIE).then(|| {
            let slot = RenewalSlot::default();
            request.extensions_mut().insert(slot.clone());
            slot
        });
        WithRenewal {
            answer: self.inner.call(request),
            slot,
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer of a route, given the renewal its extractor left.
    pub struct WithRenewal<F> {
        #[pin]
        answer: F,
        slot: Option<RenewalSlot>,
    }
}

impl<F, Out, E> Future for WithRenewal<F>
where
    F: Future<Output = Result<Response<Out>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut answer = std::task::ready!(this.answer.poll(context));
        let renewal = this.slot.as_ref().and_then(RenewalSlot::take);
        if let (Ok(response), Some(renewal)) = (&mut answer, renewal) {
            write_back(response, renewal);
        }
        Poll::Ready(answer)
    }
}

fn write_back<B>(response: &mut Response<B>, renewal: RenewalCookie) {
    let set_cookies = response.headers().get_all(SET_COOKIE);
    if !renewal.is_set_by(set_cookies.iter().map(HeaderValue::as_bytes))
        && let Ok(value) = HeaderValue::try_from(renewal.set_cookie)
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
}
