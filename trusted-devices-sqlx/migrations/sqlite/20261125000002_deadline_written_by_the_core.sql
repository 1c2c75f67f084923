-- The session's end (the earlier of the idle and the absolute deadline) is decided by the
-- core (`Device::deadline`) and written with each insert and refresh, rather than computed a
-- second time here by a generated column. SQLite cannot turn a generated column into a
-- plain one, so the table is rebuilt.

CREATE TABLE td_devices_v2 (
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
    deadline                 INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO td_devices_v2
    SELECT id, user_id, name, user_agent, ip, last_ip, location, created_at, last_seen_at,
           can_delete_other_devices, can_update_other_devices, metadata, idle_expires_at,
           session_expires_at, deadline
    FROM td_devices;
DROP TABLE td_devices;
ALTER TABLE td_devices_v2 RENAME TO td_devices;

CREATE INDEX td_devices_user ON td_devices (user_id, created_at, id);
-- Cleanup scans this index, never the table.
CREATE INDEX td_devices_deadline ON td_devices (deadline);
