-- Rule R: a sealed successor is needed only within the reuse grace and is forgotten after
-- it; the consumed record itself stays for reuse detection.

ALTER TABLE td_refresh_tokens DROP CONSTRAINT td_refresh_tokens_check;
ALTER TABLE td_refresh_tokens ADD CONSTRAINT td_refresh_tokens_rotation
    CHECK ((rotated_at IS NULL) = (successor_hash IS NULL)
       AND (rotated_at IS NOT NULL OR sealed_successor IS NULL));

-- Cleanup finds the seals to forget through this index, never the table.
CREATE INDEX td_refresh_tokens_sealed ON td_refresh_tokens (rotated_at)
    WHERE sealed_successor IS NOT NULL;
