//! Rule L's decision as one table of cases. [`DeviceLimit::admission`] is the decision; a
//! store that must take it inside an atomic step of its own (the Redis script counts the
//! held devices itself) mirrors it. The core's tests check `admission` against this table,
//! and the conformance suite checks every store's `create` against the same table, so the
//! two cannot drift.

use crate::policy::Eviction;
use crate::store::{Admission, DeviceLimit, EvictionOrder};

/// One case: a limit, how many devices the user holds, and what a login must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleLCase {
    /// The limit in force.
    pub limit: DeviceLimit,
    /// How many devices the user holds before the login.
    pub held: usize,
    /// What the login must do.
    pub expected: Admission,
}

const fn limit(single_login: bool, max: u32, eviction: Eviction) -> DeviceLimit {
    DeviceLimit {
        single_login,
        max_devices: std::num::NonZeroU32::new(max),
        eviction,
    }
}

const fn case(limit: DeviceLimit, held: usize, expected: Admission) -> RuleLCase {
    RuleLCase {
        limit,
        held,
        expected,
    }
}

const LRU: EvictionOrder = EvictionOrder::LeastRecentlyUsed;
const OLDEST: EvictionOrder = EvictionOrder::Oldest;

/// Every case of rule L: no limit, under, at and over the limit in each mode (over: a
/// lowered `max_devices` meets users who hold more), and single login, which wins over any
/// limit. `max = 0` in a row means no limit.
pub const RULE_L_CASES: &[RuleLCase] = &[
    case(limit(false, 0, Eviction::Reject), 0, Admission::Admit),
    case(limit(false, 0, Eviction::Reject), 4, Admission::Admit),
    case(limit(false, 3, Eviction::Reject), 2, Admission::Admit),
    case(limit(false, 3, Eviction::Reject), 3, Admission::Reject),
    case(limit(false, 3, Eviction::Reject), 5, Admission::Reject),
    case(limit(false, 1, Eviction::Reject), 1, Admission::Reject),
    case(
        limit(false, 3, Eviction::EvictLeastRecentlyUsed),
        2,
        Admission::Admit,
    ),
    case(
        limit(false, 3, Eviction::EvictLeastRecentlyUsed),
        3,
        Admission::Evict {
            count: 1,
            order: LRU,
        },
    ),
    case(
        limit(false, 3, Eviction::EvictLeastRecentlyUsed),
        5,
        Admission::Evict {
            count: 3,
            order: LRU,
        },
    ),
    case(limit(false, 3, Eviction::EvictOldest), 0, Admission::Admit),
    case(
        limit(false, 3, Eviction::EvictOldest),
        3,
        Admission::Evict {
            count: 1,
            order: OLDEST,
        },
    ),
    case(
        limit(false, 2, Eviction::EvictOldest),
        4,
        Admission::Evict {
            count: 3,
            order: OLDEST,
        },
    ),
    case(
        limit(false, 1, Eviction::EvictOldest),
        1,
        Admission::Evict {
            count: 1,
            order: OLDEST,
        },
    ),
    case(limit(true, 0, Eviction::Reject), 0, Admission::ReplaceAll),
    case(limit(true, 0, Eviction::Reject), 3, Admission::ReplaceAll),
    case(limit(true, 2, Eviction::Reject), 2, Admission::ReplaceAll),
    case(
        limit(true, 2, Eviction::EvictOldest),
        5,
        Admission::ReplaceAll,
    ),
];
