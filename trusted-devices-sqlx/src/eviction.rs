//! Rule L's admission, decided in the core, as the SQL stores apply it.

use trusted_devices_core::{Admission, DeviceLimit, EvictionOrder};

/// What a create does before its insert.
pub(crate) enum Plan {
    /// Insert; delete nothing.
    Insert,
    /// Write nothing: the limit refuses the login.
    Reject,
    /// Delete at most `limit` of the user's devices in `order` (single login: all), then
    /// insert.
    Evict {
        /// Which go first.
        order: EvictionOrder,
        /// The `LIMIT` of the delete.
        limit: i64,
    },
}

/// The plan for a user who holds `held` devices (a `count(*)`).
pub(crate) fn plan(limit: &DeviceLimit, held: i64) -> Plan {
    match limit.admission(usize::try_from(held).unwrap_or(usize::MAX)) {
        Admission::Admit => Plan::Insert,
        Admission::Reject => Plan::Reject,
        Admission::ReplaceAll => Plan::Evict {
            order: EvictionOrder::Oldest,
            limit: i64::MAX,
        },
        Admission::Evict { count, order } => Plan::Evict {
            order,
            limit: i64::try_from(count).unwrap_or(i64::MAX),
        },
    }
}
