-- Rule R: a sealed successor is needed only within the reuse grace and is forgotten after
-- it; the consumed record itself stays for reuse detection. SQLite cannot change a CHECK,
-- so the table is rebuilt with one that allows a consumed record without its seal.

CREATE TABLE td_refresh_tokens_v2 (
    hash             BLOB    PRIMARY KEY NOT NULL,
    device_id        BLOB    NOT NULL,
    user_id          TEXT    NOT NULL,
    issued_at        INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    rotated_at       INTEGER,
    successor_hash   BLOB,
    sealed_successor BLOB,
    CHECK ((rotated_at IS NULL) = (successor_hash IS NULL)
       AND (rotated_at IS NOT NULL OR sealed_successor IS NULL))
) WITHOUT ROWID;

INSERT INTO td_refresh_tokens_v2
    SELECT hash, device_id, user_id, issued_at, expires_at, rotated_at, successor_hash,
           sealed_successor
    FROM td_refresh_tokens;
DROP TABLE td_refresh_tokens;
ALTER TABLE td_refresh_tokens_v2 RENAME TO td_refresh_tokens;

CREATE INDEX td_refresh_tokens_device ON td_refresh_tokens (device_id);
CREATE INDEX td_refresh_tokens_expires ON td_refresh_tokens (expires_at);
-- Seals to forget are found through these small indexes (only records that still hold a
-- seal), never through the table nor all of a device's consumed records: by consumption
-- time for cleanup, by device for the sweep that comes with each rotation.
CREATE INDEX td_refresh_tokens_sealed ON td_refresh_tokens (rotated_at)
    WHERE sealed_successor IS NOT NULL;
CREATE INDEX td_refresh_tokens_sealed_device ON td_refresh_tokens (device_id, rotated_at)
    WHERE sealed_successor IS NOT NULL;
