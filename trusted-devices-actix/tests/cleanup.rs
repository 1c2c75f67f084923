//! Rule C through the adapter: `spawn_cleanup` runs cleanup on the framework's runtime and
//! stops on its handle.

use trusted_devices_actix::spawn_cleanup;
use trusted_devices_core::testing::periodic_cleanup_runs_and_stops;

#[actix_web::test]
async fn rule_c_spawn_cleanup_deletes_expired_devices_and_stops_on_its_handle() {
    periodic_cleanup_runs_and_stops(|service, interval| spawn_cleanup(service, interval).stop())
        .await;
}
