//! The revocation feed through Redis pub/sub (SPEC §4 T): every server on the same Redis
//! hears every change to a device, its own included.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;
use trusted_devices_core::cache::{
    FeedListener, FeedState, HEARTBEAT_MESSAGE, Heartbeat, RevocationFeed, beat_forever,
    encode_changes, retry_with_backoff,
};
use trusted_devices_core::{DeviceId, Sleep, StorageError};

use crate::error::storage_error;
use crate::{DEFAULT_TIMEOUT, RedisStore};

/// Device ids per message: small messages, like the PostgreSQL feed's.
const IDS_PER_MESSAGE: usize = 200;

/// The longest wait between two attempts to subscribe again after the connection was lost.
const MOST_BACKOFF: Duration = Duration::from_secs(1);

/// [`RevocationFeed`] over Redis pub/sub.
///
/// A task on the tokio runtime holds one subscribed connection, and another publishes a
/// [`Heartbeat`] on the channel. While that connection is down, or silent for longer than
/// the heartbeat's timeout (half-open), the feed is not live (device caches read storage on
/// every request); once subscribed again every cache is flushed, since what was published
/// meanwhile is lost. Dropping the feed stops its tasks.
pub struct RedisFeed {
    publisher: ConnectionManager,
    channel: String,
    state: Arc<FeedState>,
    task: tokio::task::JoinHandle<()>,
    beat: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RedisFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFeed")
            .field("channel", &self.channel)
            .field("live", &self.is_live())
            .finish_non_exhaustive()
    }
}

impl RedisFeed {
    /// Subscribes on `url` (the store's Redis) to the channel `<prefix>:revocations` of
    /// `store`'s key prefix, so that deployments sharing one Redis do not hear each other,
    /// and publishes through the store's connection. Fails if it cannot subscribe within
    /// [`DEFAULT_TIMEOUT`] (1 s): a server should not start with a cache it cannot keep
    /// true. The heartbeat is the default: a beat every second, lost after three silent
    /// seconds. Call it inside a tokio runtime.
    pub async fn start(url: &str, store: &RedisStore) -> Result<Self, StorageError> {
        Self::start_with_heartbeat(url, store, Heartbeat::DEFAULT).await
    }

    /// [`start`](Self::start) with another heartbeat (default [`Heartbeat::DEFAULT`]).
    pub async fn start_with_heartbeat(
        url: &str,
        store: &RedisStore,
        heartbeat: Heartbeat,
    ) -> Result<Self, StorageError> {
        let client = redis::Client::open(url).map_err(storage_error)?;
        let channel = store.keys.revocations();
        let publisher = store.connection.clone();
        let pubsub = subscribe(&client, &channel).await?;
        let state = Arc::new(FeedState::new());
        state.connected();
        let task = tokio::spawn(receive(
            pubsub,
            client,
            channel.clone(),
            state.clone(),
            heartbeat,
        ));
        let beat = tokio::spawn(beat(publisher.clone(), channel.clone(), heartbeat));
        Ok(Self {
            publisher,
            channel,
            state,
            task,
            beat,
        })
    }
}

impl Drop for RedisFeed {
    fn drop(&mut self) {
        self.task.abort();
        self.beat.abort();
    }
}

async fn publish(
    mut connection: ConnectionManager,
    channel: &str,
    message: &str,
) -> Result<(), StorageError> {
    let _: i64 = connection
        .publish(channel, message)
        .await
        .map_err(storage_error)?;
    Ok(())
}

async fn beat(connection: ConnectionManager, channel: String, heartbeat: Heartbeat) {
    let timer = |duration| Box::pin(tokio::time::sleep(duration)) as Sleep;
    beat_forever(
        || publish(connection.clone(), &channel, HEARTBEAT_MESSAGE),
        &timer,
        heartbeat.interval(),
    )
    .await;
}

/// Connects and subscribes, within [`DEFAULT_TIMEOUT`]: an unreachable Redis must not hold
/// a server's start, nor the feed's reconnect loop, for the operating system's TCP timeout.
async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> Result<redis::aio::PubSub, StorageError> {
    let connect = async {
        let mut pubsub = client.get_async_pubsub().await.map_err(storage_error)?;
        pubsub.subscribe(channel).await.map_err(storage_error)?;
        Ok(pubsub)
    };
    tokio::time::timeout(DEFAULT_TIMEOUT, connect)
        .await
        .map_err(StorageError::unavailable)?
}

/// Delivers every message; when the stream ends (the connection is gone) or is silent for
/// longer than the heartbeat's timeout, marks the feed down and subscribes again, with a
/// backoff of at most [`MOST_BACKOFF`].
async fn receive(
    mut pubsub: redis::aio::PubSub,
    client: redis::Client,
    channel: String,
    state: Arc<FeedState>,
    heartbeat: Heartbeat,
) {
    let timer = |duration| Box::pin(tokio::time::sleep(duration)) as Sleep;
    loop {
        {
            let mut messages = pubsub.on_message();
            while let Ok(Some(message)) =
                tokio::time::timeout(heartbeat.timeout(), messages.next()).await
            {
                let payload: String = message.get_payload().unwrap_or_default();
                state.deliver(&payload);
            }
        }
        state.lost();
        tracing::warn!("revocation feed: Redis subscription lost or silent; caches bypassed");
        pubsub = retry_with_backoff(|| subscribe(&client, &channel), &timer, MOST_BACKOFF).await;
        state.connected();
        tracing::info!("revocation feed: Redis subscription back");
    }
}

#[async_trait]
impl RevocationFeed for RedisFeed {
    async fn publish(&self, devices: &[DeviceId]) -> Result<(), StorageError> {
        for message in encode_changes(devices, IDS_PER_MESSAGE) {
            publish(self.publisher.clone(), &self.channel, &message).await?;
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
