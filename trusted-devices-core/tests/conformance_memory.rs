//! The in-memory stores pass the public conformance suite.
use std::sync::Arc;

use trusted_devices_core::memory::{MemoryDeviceRepository, MemoryTokenStore};
use trusted_devices_core::testing::{Stores, run_conformance};
use trusted_devices_core::{DeviceRepository, TokenStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_stores_pass_the_conformance_suite() {
    let devices: Arc<dyn DeviceRepository> = Arc::new(MemoryDeviceRepository::new());
    let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    // One store shared by four handles, as four servers would share one database.
    let stores = Stores::new(vec![devices; 4], vec![tokens; 4]);
    run_conformance(stores).await;
}
