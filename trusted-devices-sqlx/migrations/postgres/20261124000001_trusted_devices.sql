-- trusted-devices schema, PostgreSQL. Times are the application's clock, stored as UTC.

CREATE TABLE td_devices (
    id                       UUID        PRIMARY KEY,
    user_id                  TEXT        NOT NULL,
    name                     TEXT        NOT NULL,
    user_agent               TEXT        NOT NULL,
    ip                       TEXT,
    last_ip                  TEXT,
    location                 JSONB,
    created_at               TIMESTAMPTZ NOT NULL,
    last_seen_at             TIMESTAMPTZ NOT NULL,
    can_delete_other_devices BOOLEAN     NOT NULL,
    can_update_other_devices BOOLEAN     NOT NULL,
    metadata                 JSONB       NOT NULL,
    idle_expires_at          TIMESTAMPTZ NOT NULL,
    session_expires_at       TIMESTAMPTZ,
    -- The instant the session ends: cleanup scans this index, never the table.
    deadline                 TIMESTAMPTZ NOT NULL GENERATED ALWAYS AS
        (LEAST(idle_expires_at, COALESCE(session_expires_at, idle_expires_at))) STORED
);

-- Every per-user operation (list, limit checks, eviction order) is an index range.
CREATE INDEX td_devices_user ON td_devices (user_id, created_at, id);
CREATE INDEX td_devices_deadline ON td_devices (deadline);

-- Refresh tokens: only their SHA-256 is stored. No foreign key: tokens may live in another
-- backend than devices, and a login stores its token before its device.
CREATE TABLE td_refresh_tokens (
    hash             BYTEA       PRIMARY KEY,
    device_id        UUID        NOT NULL,
    user_id          TEXT        NOT NULL,
    issued_at        TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    rotated_at       TIMESTAMPTZ,
    successor_hash   BYTEA,
    sealed_successor BYTEA,
    CHECK ((rotated_at IS NULL) = (successor_hash IS NULL)
       AND (rotated_at IS NULL) = (sealed_successor IS NULL))
);

CREATE INDEX td_refresh_tokens_device ON td_refresh_tokens (device_id);
CREATE INDEX td_refresh_tokens_expires ON td_refresh_tokens (expires_at);
