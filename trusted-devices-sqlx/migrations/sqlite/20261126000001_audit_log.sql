-- Rule H: each user's security history. It outlives the devices it names: no foreign key.
CREATE TABLE td_audit_log (
    id          BLOB    PRIMARY KEY NOT NULL,
    user_id     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    actor       BLOB,
    target      BLOB,
    target_name TEXT,
    detail      TEXT,
    client_ip   TEXT,
    location    TEXT
) WITHOUT ROWID;

-- A user's history newest first, and the retention sweep, are both index ranges.
CREATE INDEX td_audit_log_user ON td_audit_log (user_id, at, id);
CREATE INDEX td_audit_log_at ON td_audit_log (at);
