//! The revocation feed through PostgreSQL `LISTEN/NOTIFY` (SPEC §4 T): every server that
//! shares the database hears every change to a device, its own included.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use trusted_devices_core::cache::{
    FeedListener, FeedState, HEARTBEAT_MESSAGE, Heartbeat, RevocationFeed, beat_forever,
    encode_changes, retry_with_backoff,
};
use trusted_devices_core::{DeviceId, Sleep, StorageError};

use super::PostgresStore;
use crate::error::storage_error;

/// The notification channel.
pub(crate) const CHANNEL: &str = "trusted_devices";

/// Device ids per notification: PostgreSQL caps a payload at 8,000 bytes, an id takes 37.
const IDS_PER_NOTIFICATION: usize = 200;

/// How long the listener waits for a connection before it reports the feed down.
const LISTENER_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(100);

/// The longest wait between two attempts to listen again after the connection was lost.
const MOST_BACKOFF: Duration = Duration::from_secs(1);

/// [`RevocationFeed`] over PostgreSQL `LISTEN/NOTIFY` on the store's database.
///
/// A task on the tokio runtime holds one connection that listens on the channel
/// `trusted_devices`, and another notifies a [`Heartbeat`] on it. While that connection is
/// down, or silent for longer than the heartbeat's timeout (half-open), the feed is not live
/// (device caches read storage on every request); once it listens again every cache is
/// flushed, since what was sent meanwhile is lost. Dropping the feed stops its tasks.
pub struct PostgresFeed {
    pool: PgPool,
    state: Arc<FeedState>,
    task: tokio::task::JoinHandle<()>,
    beat: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PostgresFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresFeed")
            .field("live", &self.is_live())
            .finish_non_exhaustive()
    }
}

impl PostgresFeed {
    /// Starts listening on `store`'s database with the default heartbeat (a beat every
    /// second, lost after three silent seconds); fails if it cannot (the server should not
    /// start with a cache it cannot keep true). Call it inside a tokio runtime.
    pub async fn start(store: &PostgresStore) -> Result<Self, StorageError> {
        Self::start_with_heartbeat(store, Heartbeat::DEFAULT).await
    }

    /// [`start`](Self::start) with another heartbeat (default [`Heartbeat::DEFAULT`]).
    pub async fn start_with_heartbeat(
        store: &PostgresStore,
        heartbeat: Heartbeat,
    ) -> Result<Self, StorageError> {
        let pool = store.pool().clone();
        let options = (*pool.connect_options()).clone();
        let listener = listen(&options).await?;
        let state = Arc::new(FeedState::new());
        state.connected();
        let task = tokio::spawn(receive(listener, options, state.clone(), heartbeat));
        let beat = tokio::spawn(beat(pool.clone(), heartbeat));
        Ok(Self {
            pool,
            state,
            task,
            beat,
        })
    }
}

impl Drop for PostgresFeed {
    fn drop(&mut self) {
        self.task.abort();
        self.beat.abort();
    }
}

async fn notify(pool: &PgPool, payload: &str) -> Result<(), StorageError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(pool)
        .await
        .map_err(storage_error)?;
    Ok(())
}

async fn beat(pool: PgPool, heartbeat: Heartbeat) {
    let timer = |duration| Box::pin(tokio::time::sleep(duration)) as Sleep;
    beat_forever(
        || notify(&pool, HEARTBEAT_MESSAGE),
        &timer,
        heartbeat.interval(),
    )
    .await;
}

/// Listens on a connection of its own pool, quick to give up: on a lost connection sqlx may
/// try a new one before it reports the loss, and the feed must stop being live at once, not
/// after the store's acquire timeout. A new pool each time, because a listener dropped on a
/// half-open connection keeps its connection (and its pool's one place) until the operating
/// system gives up on it.
async fn listen(options: &PgConnectOptions) -> Result<PgListener, StorageError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(LISTENER_ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await
        .map_err(storage_error)?;
    let mut listener = PgListener::connect_with(&pool)
        .await
        .map_err(storage_error)?;
    listener.listen(CHANNEL).await.map_err(storage_error)?;
    Ok(listener)
}

/// Delivers every notification; on a lost connection, or none within the heartbeat's
/// timeout, marks the feed down and listens again, with a backoff of at most
/// [`MOST_BACKOFF`].
async fn receive(
    mut listener: PgListener,
    options: PgConnectOptions,
    state: Arc<FeedState>,
    heartbeat: Heartbeat,
) {
    let timer = |duration| Box::pin(tokio::time::sleep(duration)) as Sleep;
    loop {
        let lost = match tokio::time::timeout(heartbeat.timeout(), listener.try_recv()).await {
            Ok(Ok(Some(notification))) => {
                state.deliver(notification.payload());
                continue;
            }
            Ok(Ok(None)) => "connection closed".to_owned(),
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no heartbeat for {:?}", heartbeat.timeout()),
        };
        state.lost();
        tracing::warn!(%lost, "revocation feed: PostgreSQL listener lost; caches bypassed");
        listener = retry_with_backoff(|| listen(&options), &timer, MOST_BACKOFF).await;
        state.connected();
        tracing::info!("revocation feed: PostgreSQL listener back");
    }
}

#[async_trait]
impl RevocationFeed for PostgresFeed {
    async fn publish(&self, devices: &[DeviceId]) -> Result<(), StorageError> {
        for payload in encode_changes(devices, IDS_PER_NOTIFICATION) {
            notify(&self.pool, &payload).await?;
        }
        Ok(())
    }

    fn is_live(&self) -> bool {
        self.state.is_live()
    }

    fn subscribe(&self, listener: Arc<dyn FeedListener>) {
        self.state.subscribe(listener);
    }
}
