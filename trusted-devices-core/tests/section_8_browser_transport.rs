//! SPEC §8 through the neutral HTTP layer: cookie login, cookie requests behind the CSRF
//! guard, renewal through the refresh cookie, and logout clearing both cookies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::Fixture;
use trusted_devices_core::LoginRequest;
use trusted_devices_core::http::{ApiRequest, ApiResponse, CookieSettings, DeviceApi, Endpoint};
use trusted_devices_core::{DeviceInfo, UserId};

const ORIGIN: &str = "http://127.0.0.1:3000";

fn api(f: &Fixture) -> DeviceApi {
    DeviceApi::new(f.service.clone()).cookies(CookieSettings::development(vec![ORIGIN.into()]))
}

/// The `name=value` pairs a response sets, as a browser would send them back.
fn cookie_header(response: &ApiResponse) -> String {
    response
        .headers
        .iter()
        .filter(|(name, _)| *name == "set-cookie")
        .filter_map(|(_, value)| value.split(';').next())
        .filter(|pair| !pair.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

fn set_cookies(response: &ApiResponse) -> Vec<&str> {
    response
        .headers
        .iter()
        .filter(|(name, _)| *name == "set-cookie")
        .map(|(_, value)| value.as_ref())
        .collect()
}

async fn cookie_login(api: &DeviceApi) -> String {
    cookie_login_as(api, "alice").await
}

async fn cookie_login_as(api: &DeviceApi, user: &str) -> String {
    let request = ApiRequest {
        token_transport: Some(b"cookie"),
        origin: Some(ORIGIN.as_bytes()),
        content_type: Some(b"application/json"),
        ..ApiRequest::default()
    };
    let transport = api.login_transport(&request).unwrap();
    let login = api
        .service()
        .login(
            UserId::new(user).unwrap(),
            LoginRequest::new(DeviceInfo::new()).transport(transport),
        )
        .await
        .unwrap();
    let response = api.token_response(&login.tokens);
    assert_eq!(response.status, 200);
    let body = String::from_utf8(response.body.clone()).unwrap();
    assert!(
        !body.contains("tdr_") && !body.contains("access_token"),
        "{body}"
    );
    cookie_header(&response)
}

async fn send(
    api: &DeviceApi,
    endpoint: Endpoint,
    cookies: &str,
    origin: Option<&str>,
    id: Option<&str>,
    body: &[u8],
) -> ApiResponse {
    let request = ApiRequest {
        cookie: cookies.as_bytes().into(),
        origin: origin.map(str::as_bytes),
        device_id: id,
        body,
        ..ApiRequest::default()
    };
    api.handle(endpoint, request).await
}

#[tokio::test]
async fn section_8_a_browser_session_lives_in_cookies() {
    let f = Fixture::defaults();
    let api = api(&f);
    let cookies = cookie_login(&api).await;
    assert!(
        cookies.contains("td_access=") && cookies.contains("td_refresh="),
        "{cookies}"
    );
    let list = send(&api, Endpoint::ListDevices, &cookies, None, None, b"").await;
    assert_eq!(list.status, 200, "a GET needs no origin");
    let list: serde_json::Value = serde_json::from_slice(&list.body).unwrap();
    assert_eq!(list[0]["current"], true);
}

#[tokio::test]
async fn section_8_csrf_guard_refuses_changes_from_other_origins() {
    let f = Fixture::defaults();
    let api = api(&f);
    let cookies = cookie_login(&api).await;
    let device = f
        .service
        .devices()
        .list(&UserId::new("alice").unwrap())
        .await
        .unwrap()[0]
        .clone();
    let id = device.id.to_string();
    let rename = br#"{"name":"Renamed"}"#;
    for origin in [None, Some("http://127.0.0.1:4000"), Some("null")] {
        let refused = send(
            &api,
            Endpoint::UpdateDevice,
            &cookies,
            origin,
            Some(&id),
            rename,
        )
        .await;
        assert_eq!(refused.status, 403, "{origin:?}");
        assert!(String::from_utf8_lossy(&refused.body).contains("csrf_rejected"));
    }
    let logout = send(
        &api,
        Endpoint::Logout,
        &cookies,
        Some("http://evil.test"),
        None,
        b"",
    )
    .await;
    assert_eq!(logout.status, 403);
    let unchanged = f.service.devices().get(device.id).await.unwrap().unwrap();
    assert_eq!(unchanged.name, device.name, "nothing changed");
    let allowed = send(
        &api,
        Endpoint::UpdateDevice,
        &cookies,
        Some(ORIGIN),
        Some(&id),
        rename,
    )
    .await;
    assert_eq!(allowed.status, 200);
    let same_origin = ApiRequest {
        cookie: cookies.as_bytes().into(),
        sec_fetch_site: Some(b"same-origin"),
        device_id: Some(&id),
        body: rename,
        ..ApiRequest::default()
    };
    assert_eq!(
        api.handle(Endpoint::UpdateDevice, same_origin).await.status,
        200
    );
}

#[tokio::test]
async fn section_8_transports_are_kept_apart_over_http() {
    let f = Fixture::defaults();
    let api = api(&f);
    let cookies = cookie_login(&api).await;
    let access = cookies
        .split("; ")
        .find_map(|pair| pair.strip_prefix("td_access="))
        .unwrap();
    let in_header = format!("Bearer {access}");
    let request = ApiRequest {
        authorization: Some(in_header.as_bytes()),
        ..ApiRequest::default()
    };
    let refused = api.handle(Endpoint::ListDevices, request).await;
    assert_eq!(refused.status, 401);
    assert!(String::from_utf8_lossy(&refused.body).contains("token_invalid"));
    let bearer = f.login("alice").await;
    let as_cookie = format!("td_access={}", bearer.tokens.access_token);
    let refused = send(&api, Endpoint::ListDevices, &as_cookie, None, None, b"").await;
    assert_eq!(refused.status, 401);
    assert!(String::from_utf8_lossy(&refused.body).contains("token_invalid"));
}

#[tokio::test]
async fn section_8_tabs_renewing_at_once_converge_and_logout_clears_both_cookies() {
    let f = Fixture::defaults();
    let api = Arc::new(api(&f));
    let cookies = cookie_login(&api).await;
    let refresh_only: String = cookies
        .split("; ")
        .filter(|pair| pair.starts_with("td_refresh="))
        .collect();
    let tabs: Vec<_> = (0..8)
        .map(|_| {
            let (api, refresh_only) = (Arc::clone(&api), refresh_only.clone());
            tokio::spawn(async move {
                send(
                    &api,
                    Endpoint::Refresh,
                    &refresh_only,
                    Some(ORIGIN),
                    None,
                    b"",
                )
                .await
            })
        })
        .collect();
    let mut successors = Vec::new();
    for tab in tabs {
        let response = tab.await.unwrap();
        assert_eq!(
            response.status,
            200,
            "{:?}",
            String::from_utf8_lossy(&response.body)
        );
        assert_eq!(set_cookies(&response).len(), 2);
        let refreshed = cookie_header(&response);
        successors.push(
            refreshed
                .split("; ")
                .find(|pair| pair.starts_with("td_refresh="))
                .unwrap()
                .to_owned(),
        );
    }
    successors.dedup();
    assert_eq!(
        successors.len(),
        1,
        "racing tabs converge on one refresh cookie"
    );
    let cross = send(
        &api,
        Endpoint::Refresh,
        &refresh_only,
        Some("http://127.0.0.1:9"),
        None,
        b"",
    )
    .await;
    assert_eq!(
        cross.status, 403,
        "the refresh cookie passes the CSRF guard too"
    );

    let logout = send(&api, Endpoint::Logout, &cookies, Some(ORIGIN), None, b"").await;
    assert_eq!(logout.status, 204);
    let cleared = set_cookies(&logout);
    assert_eq!(cleared.len(), 2);
    assert!(
        cleared.iter().all(|cookie| cookie.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let after = send(&api, Endpoint::ListDevices, &cookies, None, None, b"").await;
    assert_eq!(after.status, 401);
    assert_eq!(
        set_cookies(&after).len(),
        2,
        "a revoked device's cookies are cleared"
    );
}

/// Only the refresh cookie, as a browser holds it once the access cookie has expired.
fn refresh_cookie_only(cookies: &str) -> String {
    cookies
        .split("; ")
        .filter(|pair| pair.starts_with("td_refresh="))
        .collect()
}

fn clears_both_cookies(response: &ApiResponse) -> bool {
    let set = set_cookies(response);
    set.len() == 2 && set.iter().all(|cookie| cookie.contains("Max-Age=0"))
}

async fn alice_devices(f: &Fixture) -> usize {
    let alice = UserId::new("alice").unwrap();
    f.service.devices().list(&alice).await.unwrap().len()
}

/// Issue 23's first finding: with the access cookie expired, `POST /devices/logout`
/// answered 401 without clearing anything and the refresh cookie still renewed the
/// session, so the next person at that browser was signed in.
#[tokio::test]
async fn section_8_sign_out_with_the_refresh_cookie_alone_ends_the_session() {
    let f = Fixture::defaults();
    let api = api(&f);
    let cookies = cookie_login(&api).await;
    let expired_access = refresh_cookie_only(&cookies);

    let logout = send(
        &api,
        Endpoint::Logout,
        &expired_access,
        Some(ORIGIN),
        None,
        b"",
    )
    .await;
    assert_eq!(logout.status, 401);
    assert!(
        clears_both_cookies(&logout),
        "every sign-out answer clears both cookies, a refused one too: {:?}",
        set_cookies(&logout)
    );

    let sign_out = send(
        &api,
        Endpoint::SignOut,
        &expired_access,
        Some(ORIGIN),
        None,
        b"",
    )
    .await;
    assert_eq!(
        sign_out.status,
        204,
        "{}",
        String::from_utf8_lossy(&sign_out.body)
    );
    assert!(
        clears_both_cookies(&sign_out),
        "{:?}",
        set_cookies(&sign_out)
    );
    assert_eq!(alice_devices(&f).await, 0, "the device is revoked");
    let renewed = send(
        &api,
        Endpoint::Refresh,
        &expired_access,
        Some(ORIGIN),
        None,
        b"",
    )
    .await;
    assert_eq!(renewed.status, 401, "the refresh cookie renews nothing now");
    let revoked = f.hook.take().into_iter().any(|event| {
        matches!(
            event,
            trusted_devices_core::Event::DeviceRevoked {
                reason: trusted_devices_core::RevokeReason::Logout,
                ..
            }
        )
    });
    assert!(revoked, "the sign-out is the device's own logout");
}

#[tokio::test]
async fn section_8_sign_out_passes_the_csrf_guard_and_still_clears_both_cookies() {
    let f = Fixture::defaults();
    let api = api(&f);
    let cookies = cookie_login(&api).await;
    let refresh = refresh_cookie_only(&cookies);
    let cross = send(
        &api,
        Endpoint::SignOut,
        &refresh,
        Some("http://127.0.0.1:9"),
        None,
        b"",
    )
    .await;
    assert_eq!(cross.status, 403);
    assert!(clears_both_cookies(&cross));
    assert_eq!(
        alice_devices(&f).await,
        1,
        "a refused sign-out changes nothing"
    );

    let no_cookie = send(&api, Endpoint::SignOut, "", Some(ORIGIN), None, b"").await;
    assert_eq!(
        no_cookie.status, 401,
        "no refresh cookie: no session to end"
    );
    assert!(clears_both_cookies(&no_cookie));
}

#[tokio::test]
async fn section_8_sign_out_by_bearer_refresh_token_and_forged_tokens_end_nothing() {
    let f = Fixture::defaults();
    let api = api(&f);
    let login = f.login("alice").await;
    let token = login.tokens.refresh_token.expose().to_owned();
    let device = login.tokens.device_id;
    let forged = format!("{}A", &token[..token.len() - 1]);
    let forged = if forged == token {
        format!("{}B", &token[..token.len() - 1])
    } else {
        forged
    };
    let body = |token: &str| format!(r#"{{"refresh_token":"{token}"}}"#);
    let refused = send(
        &api,
        Endpoint::SignOut,
        "",
        None,
        None,
        body(&forged).as_bytes(),
    )
    .await;
    assert_eq!(refused.status, 401);
    assert!(
        f.service.devices().get(device).await.unwrap().is_some(),
        "a forged token signs nothing out"
    );
    let signed_out = send(
        &api,
        Endpoint::SignOut,
        "",
        None,
        None,
        body(&token).as_bytes(),
    )
    .await;
    assert_eq!(signed_out.status, 204);
    assert!(f.service.devices().get(device).await.unwrap().is_none());
}

/// A login is a state change whatever its transport: a disallowed `Origin` or
/// `Sec-Fetch-Site: cross-site` is `csrf_rejected`, a body not sent as JSON is
/// `invalid_request`; a native client that sends no `Origin` logs in as before.
#[tokio::test]
async fn section_8_logins_from_other_sites_or_not_json_are_refused_for_every_transport() {
    let f = Fixture::defaults();
    let api = api(&f);
    let json: &[u8] = b"application/json; charset=utf-8";
    let login =
        |origin: Option<&'static [u8]>, site: Option<&'static [u8]>, content_type| ApiRequest {
            origin,
            sec_fetch_site: site,
            content_type,
            ..ApiRequest::default()
        };
    for refused in [
        login(Some(b"http://evil.example"), None, Some(json)),
        login(None, Some(b"cross-site"), Some(json)),
        login(Some(ORIGIN.as_bytes()), Some(b"Cross-Site"), Some(json)),
    ] {
        let answer = api.login_transport(&refused);
        assert!(
            matches!(answer, Err(trusted_devices_core::Error::CsrfRejected)),
            "{refused:?}: {answer:?}"
        );
    }
    for not_json in [
        Some(&b"text/plain"[..]),
        Some(b"application/x-www-form-urlencoded"),
        None,
    ] {
        let answer = api.login_transport(&login(None, None, not_json));
        assert!(
            matches!(answer, Err(trusted_devices_core::Error::InvalidRequest(_))),
            "{not_json:?}: {answer:?}"
        );
    }
    let native = api.login_transport(&login(None, None, Some(json)));
    assert!(native.is_ok(), "{native:?}");
    let own_page = api.login_transport(&login(
        Some(ORIGIN.as_bytes()),
        Some(b"same-origin"),
        Some(json),
    ));
    assert!(own_page.is_ok(), "{own_page:?}");
}

/// Issue 23: with several cookies of one name, the first one won, so a sibling subdomain
/// could plant a refresh cookie of another account and sign the person into it. Now a
/// duplicated name is no credential at all.
#[tokio::test]
async fn section_8_a_planted_cookie_of_the_same_name_signs_nobody_in() {
    let f = Fixture::defaults();
    let api = api(&f);
    let mine = cookie_login(&api).await;
    let planted = cookie_login_as(&api, "mallory").await;
    let refresh_of = |cookies: &str| refresh_cookie_only(cookies);
    for both in [
        format!("{}; {}", refresh_of(&planted), refresh_of(&mine)),
        format!("{}; {}", refresh_of(&mine), refresh_of(&planted)),
    ] {
        let renewed = send(&api, Endpoint::Refresh, &both, Some(ORIGIN), None, b"").await;
        assert_eq!(renewed.status, 401, "{both}");
    }
    let access_of = |cookies: &str| -> String {
        cookies
            .split("; ")
            .filter(|pair| pair.starts_with("td_access="))
            .collect()
    };
    let both = format!("{}; {}", access_of(&planted), access_of(&mine));
    let listed = send(&api, Endpoint::ListDevices, &both, None, None, b"").await;
    assert_eq!(listed.status, 401, "two access cookies authenticate nobody");
    let alone = send(
        &api,
        Endpoint::ListDevices,
        &access_of(&mine),
        None,
        None,
        b"",
    )
    .await;
    assert_eq!(alone.status, 200, "one cookie of the name works as before");
}
