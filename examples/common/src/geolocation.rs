//! Where logins come from (rule G): a CDN's headers behind a trusted proxy, then the
//! MaxMind DB file of `TD_GEOIP_DB`, reloaded on SIGHUP; and the "new sign-in" message the
//! example logs for risky logins.

use std::sync::Arc;

use trusted_devices_core::{BoxError, Event, EventHook, Geolocators, async_trait};
use trusted_devices_geoip::{CdnHeaders, MaxMindDb};

use crate::settings::{Cdn, GeoipFiles, SettingError};

/// The geolocators the settings name, in order: the headers of the one CDN the operator
/// named (`TD_CDN`; believed from trusted proxies only, and none by default, since a
/// header no CDN of ours sets is whatever the client wrote), then the database, if
/// configured. The database is returned too, for reloading.
pub fn open_geolocators(
    cdn: Cdn,
    files: Option<&GeoipFiles>,
) -> Result<(Geolocators, Option<Arc<MaxMindDb>>), SettingError> {
    let chain = match cdn {
        Cdn::None => Geolocators::new(),
        Cdn::Cloudflare => Geolocators::new().then(CdnHeaders::cloudflare()),
        Cdn::Cloudfront => Geolocators::new().then(CdnHeaders::cloudfront()),
        Cdn::Vercel => Geolocators::new().then(CdnHeaders::vercel()),
    };
    let Some(files) = files else {
        return Ok((chain, None));
    };
    let mut database = MaxMindDb::open(&files.location)
        .map_err(|error| SettingError::new("TD_GEOIP_DB", error.to_string()))?;
    if let Some(asn) = &files.asn {
        database = database
            .with_asn(asn)
            .map_err(|error| SettingError::new("TD_GEOIP_ASN_DB", error.to_string()))?;
    }
    let database = Arc::new(database);
    tracing::info!(file = %files.location.display(), "geolocation database loaded");
    Ok((chain.then(Arc::clone(&database)), Some(database)))
}

/// Reloads `database` on each SIGHUP (after a GeoLite2 update), without a restart; a bad
/// file is logged and the loaded one kept.
pub fn reload_on_hangup(database: Arc<MaxMindDb>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP: the geolocation database will not reload");
            return;
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                let reloaded = tokio::task::spawn_blocking({
                    let database = Arc::clone(&database);
                    move || database.reload()
                })
                .await;
                match reloaded {
                    Ok(Ok(())) => tracing::info!("geolocation database reloaded"),
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "geolocation database kept: reload failed")
                    }
                    Err(error) => tracing::warn!(%error, "geolocation reload did not finish"),
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(database);
}

/// Logs "new sign-in from Lisbon, Portugal on Firefox / Linux" for a login that rule G
/// finds new in any way: what an application would send to the user by mail or push.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignInAlerts;

#[async_trait]
impl EventHook for SignInAlerts {
    async fn on_event(&self, event: &Event) -> Result<(), BoxError> {
        if let Event::DeviceCreated {
            device,
            software,
            signals,
        } = event
            && signals.any()
        {
            let place = device
                .location
                .as_ref()
                .map_or_else(|| "an unknown place".to_owned(), ToString::to_string);
            let browser = software.browser.as_deref().unwrap_or("an unknown browser");
            let os = software.os.as_deref().unwrap_or("an unknown system");
            tracing::info!(
                user = %device.user_id,
                device = %device.id,
                signals = ?signals.names(),
                "new sign-in from {place} on {browser} / {os}"
            );
        }
        Ok(())
    }
}
