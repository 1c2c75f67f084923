//! The "Your devices" page (SPEC §8), feature `page`: three static files from `page/`,
//! compiled in, no build step, framework-neutral; each web adapter mounts them with one
//! call (`trusted_devices_axum::page_router`, `trusted_devices_actix::configure_page`).
//! Served with a strict Content-Security-Policy: scripts and styles from this origin only,
//! nothing inline, no framing.
//!
//! The page talks to the routes of SPEC §6 by cookie (SPEC §8) and signs in through the
//! application's own `POST /auth/login` with `{username, password}` and
//! `X-Token-Transport: cookie`, as the example servers' login does.

use crate::http::ApiResponse;

/// Scripts, styles and requests from this origin only; no inline code, plugins or frames.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The page's files: path, content type, content.
const ASSETS: [(&str, &str, &str); 3] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("../../page/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../page/app.js"),
    ),
    (
        "/app.css",
        "text/css; charset=utf-8",
        include_str!("../../page/app.css"),
    ),
];

/// The paths the page is served at, for the adapters' routers.
pub fn paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(path, _, _)| *path)
}

/// The file at `path`, with its security headers; `None` for any other path.
#[must_use]
pub fn asset(path: &str) -> Option<ApiResponse> {
    let (_, content_type, content) = ASSETS.iter().find(|(at, _, _)| *at == path)?;
    let mut response = ApiResponse::empty(200);
    response.body = content.as_bytes().to_vec();
    response.headers = vec![
        ("content-type", (*content_type).into()),
        ("content-security-policy", CONTENT_SECURITY_POLICY.into()),
        ("x-content-type-options", "nosniff".into()),
        ("referrer-policy", "no-referrer".into()),
        ("cache-control", "no-store".into()),
    ];
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_8_the_page_is_served_with_a_strict_policy_and_no_inline_code() {
        for path in paths() {
            let page = asset(path).unwrap();
            let policy = page.header("content-security-policy").unwrap();
            assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe"));
        }
        let html = String::from_utf8(asset("/").unwrap().body).unwrap();
        for inline in ["<script>", " onclick", " onsubmit", " onload", "style="] {
            assert!(!html.contains(inline), "no inline code: {inline}");
        }
        let script = String::from_utf8(asset("/app.js").unwrap().body).unwrap();
        assert!(!script.contains("innerHTML"), "text only, never markup");
        assert!(asset("/other").is_none());
    }
}
