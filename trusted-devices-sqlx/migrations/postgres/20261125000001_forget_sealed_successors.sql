-- Rule R: a sealed successor is needed only within the reuse grace and is forgotten after
-- it; the consumed record itself stays for reuse detection.

ALTER TABLE td_refresh_tokens DROP CONSTRAINT td_refresh_tokens_check;
ALTER TABLE td_refresh_tokens ADD CONSTRAINT td_refresh_tokens_rotation
    CHECK ((rotated_at IS NULL) = (successor_hash IS NULL)
       AND (rotated_at IS NOT NULL OR sealed_successor IS NULL));

-- Seals to forget are found through these small indexes (only records that still hold a
-- seal), never through the table nor all of a device's consumed records: by consumption
-- time for cleanup, by device for the sweep that comes with each rotation.
CREATE INDEX td_refresh_tokens_sealed ON td_refresh_tokens (rotated_at)
    WHERE sealed_successor IS NOT NULL;
CREATE INDEX td_refresh_tokens_sealed_device ON td_refresh_tokens (device_id, rotated_at)
    WHERE sealed_successor IS NOT NULL;
