-- The session's end (the earlier of the idle and the absolute deadline) is decided by the
-- core (`Device::deadline`) and written with each insert and refresh, rather than computed a
-- second time here by a generated column.
ALTER TABLE td_devices DROP COLUMN deadline;
ALTER TABLE td_devices ADD COLUMN deadline TIMESTAMPTZ;
UPDATE td_devices
   SET deadline = LEAST(idle_expires_at, COALESCE(session_expires_at, idle_expires_at));
ALTER TABLE td_devices ALTER COLUMN deadline SET NOT NULL;
-- Cleanup scans this index, never the table.
CREATE INDEX td_devices_deadline ON td_devices (deadline);
