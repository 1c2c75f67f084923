-- Records a sighting when due, and on refresh writes the core's new deadlines, in one step.
-- KEYS: the device hash, the user's last-seen index, the user's created-at index. ARGV: 1
-- device id, 2 at, 3 ip ('' = unknown), 4 stale_before, 5 new idle deadline ('' = keep), 6
-- the session's end that follows (IdleExtension::deadline), 7 the key's expiry in Unix ms.
-- Nothing is computed here: every instant is the core's.
-- Returns the device's hash ({} when absent).
local key, seen = KEYS[1], KEYS[2]
if redis.call('EXISTS', key) == 0 then return {} end
local last_seen = tonumber(redis.call('HGET', key, 'last_seen'))
if last_seen <= tonumber(ARGV[4]) then
  redis.call('HSET', key, 'last_seen', ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', key, 'last_ip', ARGV[3]) end
  redis.call('ZADD', seen, ARGV[2], ARGV[1])
end
if ARGV[5] ~= '' then
  redis.call('HSET', key, 'idle', ARGV[5], 'deadline', ARGV[6])
  local expire_at = tonumber(ARGV[7])
  redis.call('PEXPIREAT', key, expire_at)
  -- The user's indexes live as long as their longest-lived device.
  for _, index in ipairs({KEYS[2], KEYS[3]}) do
    if redis.call('PEXPIRETIME', index) < expire_at then
      redis.call('PEXPIREAT', index, expire_at)
    end
  end
end
return redis.call('HGETALL', key)
