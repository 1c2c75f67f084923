//! The real binary on a loopback port, driven over HTTP by the shared contract suite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

trusted_devices_example_contract::http_contract_tests!(env!(
    "CARGO_BIN_EXE_trusted-devices-example-axum"
));
