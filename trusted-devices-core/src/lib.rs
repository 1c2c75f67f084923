//! # trusted-devices-core
//!
//! A trusted-device layer for any web backend, with no I/O, no web framework and no async
//! runtime. Every login becomes a named [`Device`] the user can list, rename and revoke;
//! access tokens (JWT HS256) and rotating refresh tokens are bound to their device; the
//! [`Policy`] decides which device may remove or change which, how many devices a user may
//! hold, and whether one login ends the others.
//!
//! The contract is the repository's `docs/SPEC.md` (the page the code means by "SPEC §N"
//! and "rule X"); its rules are named in the docs of the items
//! that implement them: L ([`TrustedDevices::login`]), A ([`Policy::check_delete`],
//! [`Policy::check_update`]), T ([`TrustedDevices::authenticate`]), R
//! ([`TrustedDevices::refresh`]), V ([`TrustedDevices::verify`]), C
//! ([`TrustedDevices::cleanup`], [`TrustedDevices::run_cleanup`]), U
//! ([`TrustedDevices::revoke_all`]) and E ([`Event`], also written as `tracing` events with
//! target [`TRACING_TARGET`]). Rule T's device cache and revocation feed are in [`cache`]:
//! give the builder a feed ([`TrustedDevicesBuilder::revocation_feed`]) and authentication
//! reads devices from memory, kept true on every server.
//!
//! Storage is two traits, [`DeviceRepository`] and [`TokenStore`], each method one atomic
//! operation; the in-memory stores in [`memory`] are the default, and the feature `testing`
//! publishes the conformance suite any implementation runs in one call (feature `fixtures`:
//! only its test data, without tokio). The policy's settings are one table ([`SETTINGS`]). Web adapters
//! translate to and from [`http`], which handles every route of the HTTP contract.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use chrono::TimeDelta;
//! use trusted_devices_core::{
//!     DeviceInfo, Error, KeyRing, ManualClock, Policy, SigningKey, TrustedDevices,
//! };
//!
//! # async fn demo() -> Result<(), Error> {
//! let keys = KeyRing::new(SigningKey::new("k1", b"a secret of at least 32 bytes!!!").unwrap());
//! let clock = Arc::new(ManualClock::at_unix_seconds(1_800_000_000));
//! let service = TrustedDevices::builder(keys)
//!     .policy(Policy::builder().delete_delay(Duration::from_secs(3600)).build().unwrap())
//!     .clock(clock.clone())
//!     .build();
//!
//! // A login: the attempt (rule K's limits), then your password check, then the login.
//! let attempt = service.attempt_login("alice", None).await?;
//! // ...check the password of `attempt.user()` here...
//! let laptop = attempt.login(DeviceInfo::new().requested_name("Laptop")).await?;
//! let attempt = service.attempt_login("alice", None).await?;
//! let phone = attempt.login(DeviceInfo::new().requested_name("Phone")).await?;
//!
//! // The phone just logged in: it may not remove the older laptop yet...
//! let acting = service.authenticate(&phone.tokens.access_token, None).await?;
//! let refused = service.delete(&acting, laptop.device.id).await;
//! assert!(matches!(refused, Err(Error::DeleteTooSoon { retry_after: 3600 })));
//!
//! // ...but the laptop may remove the newcomer once it is an hour old.
//! clock.advance(TimeDelta::hours(1));
//! let laptop_pair = service.refresh(laptop.tokens.refresh_token.expose(), None).await?;
//! let acting = service.authenticate(&laptop_pair.access_token, None).await?;
//! service.delete(&acting, phone.device.id).await?;
//! assert_eq!(service.list(&acting).await?.len(), 1);
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! ## Your own storage: errors
//!
//! A repository of your own reports its driver's failures as a [`StorageError`], keeping
//! the driver error as the source: [`StorageError::unavailable`] when the backend cannot be
//! reached (connection refused or lost, a pool timeout) and [`StorageError::backend`] when
//! it answered with an error. The service turns either into [`Error::StorageUnavailable`]
//! (`From<StorageError> for Error`), which HTTP answers `503 storage_unavailable`, so a
//! handler's `?` works on both. The store crates do the same with their drivers'
//! errors (`trusted_devices_sqlx::storage_error`, `trusted_devices_redis::storage_error`).
//!
//! ```
//! use trusted_devices_core::{Error, StorageError};
//!
//! let lost = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
//! let error: Error = StorageError::unavailable(lost).into();
//! assert_eq!((error.code(), error.status()), ("storage_unavailable", 503));
//! assert!(std::error::Error::source(&error).is_some(), "the driver's error is kept");
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod cache;
mod clock;
mod domain;
pub mod dpop;
mod duration;
mod error;
mod event_log;
mod events;
mod geolocation;
pub mod http;
pub mod memory;
mod policy;
mod random;
pub mod rate_limit;
pub mod risk;
mod service;
mod store;
mod telemetry;
#[cfg(feature = "fixtures")]
pub mod testing;
mod token;

pub use clock::{Clock, ManualClock, SystemClock};
pub use domain::{
    Coordinates, Device, DeviceId, DeviceInfo, DeviceName, DevicePatch, Location, Metadata,
    Software, USER_AGENT_MAX_BYTES, UserId, name_from_user_agent, truncate_user_agent,
};
pub use error::{BoxError, Error, InputError, StorageError};
pub use event_log::TARGET as TRACING_TARGET;
pub use events::{Event, EventHook, HookErrorReporter, LoginRejection, RevokeReason};
pub use geolocation::{Geolocator, Geolocators, PROXY_GEO_HEADERS, Sleep, Timer};
pub use policy::{
    DpopMode, Eviction, Policy, PolicyBuilder, PolicyError, SETTINGS, Setting, UnknownDpopMode,
    UnknownEviction, parse_duration,
};
pub use random::{OsRandom, RandomSource, SeededRandom};
pub use risk::RiskSignals;
pub use service::{
    ActivityPage, Authenticated, CLEANUP_BATCH, CLEANUP_REST_FACTOR, CleanupReport, History,
    LoginAttempt, LoginOutcome, LoginRequest, Presented, Renewal, TrustedDevices,
    TrustedDevicesBuilder, Verified, Via,
};
pub use store::{
    Admission, CreateOutcome, DeviceLimit, DeviceRepository, EvictionOrder, IdleExtension,
    RefreshRecord, RotateOutcome, Rotated, Rotation, Sighting, TokenStore,
};
pub use token::{
    ACCESS_TOKEN_MAX_BYTES, AccessClaims, AccessTokenCodec, Confirmation, KeyError, KeyRing,
    RefreshToken, RefreshTokenHash, SealedSuccessor, SigningKey, TokenPair, Transport,
};

/// Re-exported so that implementors of the traits use the same version.
pub use async_trait::async_trait;
pub use chrono;
