use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{MethodFilter, on};
use trusted_devices_core::http::{ApiRequest, ApiResponse, Endpoint, MAX_BODY_BYTES};
use trusted_devices_core::{Error, InputError};

use crate::Devices;
use crate::extract::api_request;
use crate::response::into_response;

/// Every route of SPEC §6 (`/auth/refresh`, `/auth/verify`, `/devices…`), with `devices` as
/// state: merge or nest it into the application's router.
pub fn router<S>(devices: &Devices) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    for endpoint in Endpoint::ALL {
        let handler = move |State(devices): State<Devices>, request: Request| {
            serve(devices, endpoint, request)
        };
        router = router.route(endpoint.path(), on(method_filter(endpoint), handler));
    }
    router.with_state(devices.clone())
}

fn method_filter(endpoint: Endpoint) -> MethodFilter {
    let method = Method::from_bytes(endpoint.method().as_bytes()).unwrap_or(Method::GET);
    MethodFilter::try_from(method).unwrap_or(MethodFilter::GET)
}

/// Translates one request for the core and its answer back.
async fn serve(devices: Devices, endpoint: Endpoint, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let device_id = path_id(&mut parts).await;
    let Some(body) = read_body(body).await else {
        let too_large = Error::from(InputError::BodyTooLarge {
            max: MAX_BODY_BYTES,
        });
        return into_response(ApiResponse::error(&too_large));
    };
    let request = ApiRequest {
        device_id: device_id.as_deref(),
        ..api_request(&devices, &parts, &body)
    };
    into_response(devices.handle(endpoint, request).await)
}

/// The `{id}` path parameter, if the route has one.
async fn path_id(parts: &mut axum::http::request::Parts) -> Option<String> {
    use axum::extract::{FromRequestParts, RawPathParams};
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    params
        .iter()
        .find(|(name, _)| *name == "id")
        .map(|(_, value)| value.to_owned())
}

/// The body, or `None` when it is larger than the limit (or broke off).
async fn read_body(body: Body) -> Option<axum::body::Bytes> {
    to_bytes(body, MAX_BODY_BYTES + 1).await.ok()
}
