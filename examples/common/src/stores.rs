//! Opening the service the settings describe: keys, database, policy.

use std::sync::Arc;
use std::time::Duration;

use trusted_devices_core::audit::AuditLog;
use trusted_devices_core::cache::{LocalFeed, RevocationFeed};
use trusted_devices_core::dpop::ProofReplayCache;
use trusted_devices_core::rate_limit::RateLimiter;
use trusted_devices_core::{
    BoxError, DeviceRepository, Event, KeyRing, OsRandom, SigningKey, Sleep, TokenStore,
    TrustedDevices,
};
use trusted_devices_redis::RedisStore;
use trusted_devices_sqlx::{PostgresFeed, PostgresStore, SqliteStore};

use crate::geolocation::{SignInAlerts, open_geolocators, reload_on_hangup};
use crate::settings::{SettingError, Settings};

/// The service over the configured database, its tables migrated.
pub async fn open_service(settings: &Settings) -> Result<TrustedDevices, SettingError> {
    let timeout = settings.limits.storage_timeout;
    let cache = settings.policy.device_cache_ttl() > Duration::ZERO;
    let (devices, mut tokens, feed, history) =
        open_database(&settings.database_url, timeout, cache).await?;
    // With Redis, refresh tokens, rule K's buckets and the DPoP proofs seen (SPEC §9) live
    // there, shared by every server.
    let mut limiter: Option<Arc<dyn RateLimiter>> = None;
    let mut proof_replays: Option<Arc<dyn ProofReplayCache>> = None;
    if let Some(url) = &settings.redis_url {
        let redis = open_redis(url, timeout).await?;
        tokens = redis.clone();
        limiter = Some(redis.clone());
        proof_replays = Some(redis);
    }
    let (geolocators, database) = open_geolocators(settings.cdn, settings.geoip.as_ref())?;
    if let Some(database) = database {
        reload_on_hangup(database);
    }
    let sleep = |duration| Box::pin(tokio::time::sleep(duration)) as Sleep;
    let mut builder = TrustedDevices::builder(keys(settings)?)
        .policy(settings.policy.clone())
        .devices(devices)
        .tokens(tokens)
        .geolocator(Arc::new(geolocators))
        // A lookup is in memory (microseconds); the bound is for a slow custom geolocator.
        .geolocation_timeout(timeout, Arc::new(sleep))
        .hook(Arc::new(SignInAlerts))
        // Rule H's history, in the database beside the devices.
        .audit_log(history)
        .on_hook_error(log_hook_error);
    if let Some(feed) = feed {
        builder = builder.revocation_feed(feed);
    }
    if let Some(limiter) = limiter {
        builder = builder.rate_limiter(limiter);
    }
    if let Some(proof_replays) = proof_replays {
        builder = builder.proof_replay_cache(proof_replays);
    }
    Ok(builder.build())
}

fn keys(settings: &Settings) -> Result<KeyRing, SettingError> {
    let key = match &settings.secret {
        Some(secret) => SigningKey::new("td-1", secret)
            .map_err(|error| SettingError::new("TD_SECRET", error.to_string()))?,
        None => {
            tracing::warn!(
                "TD_SECRET is not set: signing with a random key; tokens will not survive a restart"
            );
            SigningKey::generate("td-ephemeral", &OsRandom)
                .ok_or_else(|| SettingError::new("TD_SECRET", "cannot generate a key"))?
        }
    };
    Ok(KeyRing::new(key))
}

/// The stores, and the revocation feed that keeps device caches true over them (rule T)
/// when devices are cached.
type Stores = (
    Arc<dyn DeviceRepository>,
    Arc<dyn TokenStore>,
    Option<Arc<dyn RevocationFeed>>,
    Arc<dyn AuditLog>,
);

/// The database's stores; with `cache`, also the feed that keeps device caches true over
/// them (none is started without: a feed holds a connection of its own).
async fn open_database(url: &str, timeout: Duration, cache: bool) -> Result<Stores, SettingError> {
    let fail = |error: trusted_devices_core::StorageError| {
        SettingError::new(
            "TD_DATABASE_URL",
            format!("cannot open {}: {}", redact(url), error_chain(&error)),
        )
    };
    // Said before the wait, so that a slow or unreachable database is not silence.
    tracing::info!(database = %redact(url), ?timeout, "opening the database");
    if url.starts_with("sqlite:") {
        let store = SqliteStore::connect_with_timeout(url, timeout)
            .await
            .map_err(fail)?;
        store.migrate().await.map_err(fail)?;
        let store = Arc::new(store);
        // One process owns an SQLite file, so its own in-process feed is every feed there
        // is. Several processes on one file: set TD_DEVICE_CACHE_TTL=0s, or use PostgreSQL.
        let feed = cache.then(|| Arc::new(LocalFeed::new()) as Arc<dyn RevocationFeed>);
        return Ok((store.clone(), store.clone(), feed, store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect_with_timeout(url, timeout)
            .await
            .map_err(fail)?;
        store.migrate().await.map_err(fail)?;
        // Every server on the database hears every change through LISTEN/NOTIFY.
        let feed: Option<Arc<dyn RevocationFeed>> = if cache {
            Some(Arc::new(PostgresFeed::start(&store).await.map_err(fail)?))
        } else {
            None
        };
        let store = Arc::new(store);
        return Ok((store.clone(), store.clone(), feed, store));
    }
    Err(SettingError::new(
        "TD_DATABASE_URL",
        format!("{} is neither sqlite: nor postgres://", redact(url)),
    ))
}

/// Redis, for refresh tokens and rate limits.
async fn open_redis(url: &str, timeout: Duration) -> Result<Arc<RedisStore>, SettingError> {
    tracing::info!(redis = %redact(url), ?timeout, "connecting to Redis");
    let store = RedisStore::connect_with_timeout(url, timeout)
        .await
        .map_err(|error| {
            SettingError::new(
                "TD_REDIS_URL",
                format!("cannot open {}: {}", redact(url), error_chain(&error)),
            )
        })?;
    tracing::info!(url = %redact(url), "refresh tokens are kept in Redis");
    Ok(Arc::new(store))
}

/// An error and its sources on one line.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace('\n', " ")
}

/// The URL with any password masked, fit for a log line.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

fn log_hook_error(event: &Event, error: &BoxError) {
    tracing::warn!(?event, %error, "event hook failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://td:s3cret@db:5432/app"),
            "postgres://td:***@db:5432/app"
        );
        assert_eq!(redact("postgres://td@db/app"), "postgres://td@db/app");
        assert_eq!(redact("sqlite:x.db"), "sqlite:x.db");
    }
}
