//! The Lua scripts, loaded once per process (redis caches them by SHA).

use std::sync::LazyLock;

use redis::Script;

pub(crate) static CREATE_DEVICE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/create_device.lua")));
pub(crate) static REMOVE_DEVICES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/remove_devices.lua")));
pub(crate) static UPDATE_DEVICE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/update_device.lua")));
pub(crate) static SEE_DEVICE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/see_device.lua")));
pub(crate) static INSERT_TOKEN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/insert_token.lua")));
pub(crate) static ROTATE_TOKEN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/rotate_token.lua")));
pub(crate) static REMOVE_TOKENS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/remove_tokens.lua")));
pub(crate) static RATE_LIMIT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/rate_limit.lua")));
pub(crate) static AUDIT_APPEND: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/audit_append.lua")));
pub(crate) static AUDIT_PAGE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/audit_page.lua")));
pub(crate) static AUDIT_REMOVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/audit_remove.lua")));
pub(crate) static PROOF_FIRST_USE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/proof_first_use.lua")));
