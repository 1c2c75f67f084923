//! The storage traits. Each method is one atomic operation of the backend, so every rule
//! holds under concurrent calls from several servers: nothing is counted in the core and
//! then written.

mod device_repository;
mod token_store;

pub use device_repository::{
    Admission, CreateOutcome, DeviceLimit, DeviceRepository, EvictionOrder, IdleExtension, Sighting,
};
pub use token_store::{RefreshRecord, RotateOutcome, Rotated, Rotation, TokenStore};
