//! The statements both databases run, as data: written once, with the columns named once
//! (`DEVICE_COLUMNS`, `TOKEN_COLUMNS`, `AUDIT_COLUMNS`) and the one clause that differs
//! (`skip_locked`) put in by [`Statements::new`]. `$1` placeholders work on both.
//!
//! A new column is a change to the migrations, the column list here, the insert below and
//! the row's decoding in `row.rs`.

/// The columns every device query returns, in `DeviceRow`'s order.
pub(crate) const DEVICE_COLUMNS: &str = "id, user_id, name, user_agent, ip, last_ip, \
     location, created_at, last_seen_at, can_delete_other_devices, can_update_other_devices, \
     metadata, idle_expires_at, session_expires_at, dpop_jkt";

/// The columns every token query returns.
pub(crate) const TOKEN_COLUMNS: &str = "hash, device_id, user_id, issued_at, expires_at, \
     rotated_at, successor_hash, sealed_successor";

/// The columns of the history.
pub(crate) const AUDIT_COLUMNS: &str =
    "id, user_id, at, kind, actor, target, target_name, detail, client_ip, location";

/// Every statement of the stores, for one database.
#[derive(Debug)]
#[doc(hidden)]
pub struct Statements {
    pub(crate) count_devices: &'static str,
    pub(crate) insert_device: String,
    pub(crate) evict_least_recently_used: String,
    pub(crate) evict_oldest: String,
    pub(crate) get_device: String,
    pub(crate) list_devices: String,
    pub(crate) update_device: String,
    pub(crate) record_seen: &'static str,
    pub(crate) extend_idle: String,
    pub(crate) delete_device: String,
    pub(crate) delete_others: String,
    pub(crate) delete_all: String,
    pub(crate) delete_expired_devices: String,
    pub(crate) insert_token: &'static str,
    pub(crate) select_token: String,
    pub(crate) forget_sealed: String,
    pub(crate) delete_expired_tokens: String,
    pub(crate) append_audit: String,
    pub(crate) audit_page: String,
    pub(crate) delete_audit_before: String,
}

impl Statements {
    /// The statements of a database whose cleanup batches end with `skip_locked` (`FOR
    /// UPDATE SKIP LOCKED` where rows are locked one by one, nothing where one writer holds
    /// the whole database).
    pub(crate) fn new(skip_locked: &str) -> Self {
        let returning = |sql: &str| format!("{sql} RETURNING {DEVICE_COLUMNS}");
        Self {
            count_devices: "SELECT count(*) AS held FROM td_devices WHERE user_id = $1",
            insert_device: "INSERT INTO td_devices (id, user_id, name, user_agent, ip, \
                 last_ip, location, created_at, last_seen_at, can_delete_other_devices, \
                 can_update_other_devices, metadata, idle_expires_at, session_expires_at, \
                 deadline, dpop_jkt) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                .to_owned(),
            evict_least_recently_used: returning(
                "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices \
                 WHERE user_id = $1 ORDER BY last_seen_at, id LIMIT $2)",
            ),
            evict_oldest: returning(
                "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices \
                 WHERE user_id = $1 ORDER BY created_at, id LIMIT $2)",
            ),
            get_device: format!("SELECT {DEVICE_COLUMNS} FROM td_devices WHERE id = $1"),
            list_devices: format!("SELECT {DEVICE_COLUMNS} FROM td_devices WHERE user_id = $1"),
            update_device: returning(
                "UPDATE td_devices SET name = COALESCE($3, name), \
                 can_delete_other_devices = COALESCE($4, can_delete_other_devices), \
                 can_update_other_devices = COALESCE($5, can_update_other_devices) \
                 WHERE id = $1 AND user_id = $2",
            ),
            record_seen: "UPDATE td_devices SET last_seen_at = $2, \
                 last_ip = COALESCE($3, last_ip) WHERE id = $1 AND last_seen_at <= $4",
            // SET expressions all read the row as it was, so both CASEs test the old value.
            extend_idle: returning(
                "UPDATE td_devices SET idle_expires_at = $2, deadline = $6, \
                 last_seen_at = CASE WHEN last_seen_at <= $5 THEN $3 ELSE last_seen_at END, \
                 last_ip = CASE WHEN last_seen_at <= $5 THEN COALESCE($4, last_ip) \
                   ELSE last_ip END \
                 WHERE id = $1",
            ),
            delete_device: returning("DELETE FROM td_devices WHERE id = $1 AND user_id = $2"),
            delete_others: returning("DELETE FROM td_devices WHERE user_id = $1 AND id <> $2"),
            delete_all: returning("DELETE FROM td_devices WHERE user_id = $1"),
            delete_expired_devices: returning(&format!(
                "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices \
                 WHERE deadline <= $1 ORDER BY deadline LIMIT $2{skip_locked})"
            )),
            insert_token: "INSERT INTO td_refresh_tokens (hash, device_id, user_id, \
                 issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            select_token: format!("SELECT {TOKEN_COLUMNS} FROM td_refresh_tokens WHERE hash = $1"),
            forget_sealed: format!(
                "UPDATE td_refresh_tokens SET sealed_successor = NULL WHERE hash IN \
                 (SELECT hash FROM td_refresh_tokens \
                  WHERE sealed_successor IS NOT NULL AND rotated_at < $1 LIMIT $2{skip_locked})"
            ),
            delete_expired_tokens: format!(
                "DELETE FROM td_refresh_tokens WHERE hash IN (SELECT hash \
                 FROM td_refresh_tokens WHERE expires_at <= $1 ORDER BY expires_at \
                 LIMIT $2{skip_locked})"
            ),
            append_audit: format!(
                "INSERT INTO td_audit_log ({AUDIT_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            audit_page: format!(
                "SELECT {AUDIT_COLUMNS} FROM td_audit_log \
                 WHERE user_id = $1 AND (at < $2 OR (at = $2 AND id < $3)) \
                 ORDER BY at DESC, id DESC LIMIT $4"
            ),
            delete_audit_before: format!(
                "DELETE FROM td_audit_log WHERE id IN (SELECT id FROM td_audit_log \
                 WHERE at < $1 ORDER BY at LIMIT $2{skip_locked})"
            ),
        }
    }
}
