//! In-memory stores: the embedded default, correct under concurrency within one process.
//!
//! Each store keeps its state behind one lock taken for the whole of each method, so every
//! method is atomic; indexes by user and by deadline keep every operation proportional to
//! the user's devices or the batch, never the whole table. State is lost when the process
//! ends, and is not shared between processes: several servers need a shared backend.

mod device_repository;
mod token_store;

pub use device_repository::MemoryDeviceRepository;
pub use token_store::MemoryTokenStore;
