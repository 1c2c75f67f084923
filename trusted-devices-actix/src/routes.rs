use actix_web::http::Method;
use actix_web::web::{self, Data, Payload, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use trusted_devices_core::http::Endpoint;

use crate::Devices;
use crate::extract::api_request;
use crate::response::{into_response, read_body};

/// Mounts every route of SPEC §6 (`/auth/refresh`, `/auth/verify`, `/devices…`) and
/// registers `devices` as app data:
/// `App::new().configure(|cfg| trusted_devices_actix::configure(&devices, cfg))`.
pub fn configure(devices: &Devices, config: &mut ServiceConfig) {
    config.app_data(Data::new(devices.clone()));
    // One resource per path, each of its endpoints a method route; static paths first,
    // so that `/devices/logout` is not taken for a device id.
    let mut paths: Vec<&str> = Endpoint::ALL.iter().map(|e| e.path()).collect();
    paths.sort_by_key(|path| path.contains('{'));
    paths.dedup();
    for path in paths {
        let mut resource = web::resource(path);
        for endpoint in Endpoint::ALL.into_iter().filter(|e| e.path() == path) {
            let method = Method::from_bytes(endpoint.method().as_bytes()).unwrap_or(Method::GET);
            resource = resource.route(web::method(method).to(
                move |devices: Data<Devices>, request: HttpRequest, payload: Payload| {
                    serve(devices, endpoint, request, payload)
                },
            ));
        }
        config.service(resource);
    }
}

/// Translates one request for the core and its answer back.
async fn serve(
    devices: Data<Devices>,
    endpoint: Endpoint,
    request: HttpRequest,
    payload: Payload,
) -> HttpResponse {
    let body = match read_body(payload).await {
        Ok(body) => body,
        Err(error) => return actix_web::ResponseError::error_response(&error),
    };
    let api_request = api_request(&devices, &request, &body);
    into_response(devices.handle(endpoint, api_request).await)
}
