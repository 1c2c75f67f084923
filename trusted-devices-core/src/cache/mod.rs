//! Rule T under a revocation feed: a per-server device cache, and the feed that keeps every
//! server's cache true.

mod device_cache;
mod feed;
mod feed_state;
mod heartbeat;

pub use device_cache::{CachedDevices, DEFAULT_DEVICE_CACHE_CAPACITY};
pub use feed::{
    FeedListener, Listeners, LocalFeed, RevocationFeed, decode_changes, encode_changes,
};
pub use feed_state::{FeedState, retry_with_backoff};
pub use heartbeat::{HEARTBEAT_MESSAGE, Heartbeat, beat_forever};
