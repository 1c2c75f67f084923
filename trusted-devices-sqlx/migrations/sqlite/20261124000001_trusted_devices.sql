-- trusted-devices schema, SQLite. Ids are 16-byte BLOBs, times whole microseconds since the
-- Unix epoch (exact and sortable), JSON is TEXT.

CREATE TABLE td_devices (
    id                       BLOB    PRIMARY KEY NOT NULL,
    user_id                  TEXT    NOT NULL,
    name                     TEXT    NOT NULL,
    user_agent               TEXT    NOT NULL,
    ip                       TEXT,
    last_ip                  TEXT,
    location                 TEXT,
    created_at               INTEGER NOT NULL,
    last_seen_at             INTEGER NOT NULL,
    can_delete_other_devices INTEGER NOT NULL,
    can_update_other_devices INTEGER NOT NULL,
    metadata                 TEXT    NOT NULL,
    idle_expires_at          INTEGER NOT NULL,
    session_expires_at       INTEGER,
    -- The instant the session ends: cleanup scans this index, never the table.
    deadline                 INTEGER NOT NULL GENERATED ALWAYS AS
        (MIN(idle_expires_at, COALESCE(session_expires_at, idle_expires_at))) STORED
) WITHOUT ROWID;

CREATE INDEX td_devices_user ON td_devices (user_id, created_at, id);
CREATE INDEX td_devices_deadline ON td_devices (deadline);

CREATE TABLE td_refresh_tokens (
    hash             BLOB    PRIMARY KEY NOT NULL,
    device_id        BLOB    NOT NULL,
    user_id          TEXT    NOT NULL,
    issued_at        INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    rotated_at       INTEGER,
    successor_hash   BLOB,
    sealed_successor BLOB,
    CHECK ((rotated_at IS NULL) = (successor_hash IS NULL)
       AND (rotated_at IS NULL) = (sealed_successor IS NULL))
) WITHOUT ROWID;

CREATE INDEX td_refresh_tokens_device ON td_refresh_tokens (device_id);
CREATE INDEX td_refresh_tokens_expires ON td_refresh_tokens (expires_at);
