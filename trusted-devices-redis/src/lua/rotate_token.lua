-- Rule R's compare-and-swap: consumes a live, unconsumed token and stores its successor.
-- KEYS: 1 presented token hash, 2 successor token hash, 3 the device's token set, 4 the
-- presented token's seal key, 5 the device's seal index (seal keys by consumption time).
-- ARGV: 1 now, 2 successor hash (hex), 3 sealed successor (hex), 4 successor expire-at ms,
-- 5 how long the seal is kept (ms: the reuse grace and a margin), 6 forget the seals of
-- tokens consumed before this (now less the grace), then field/value pairs of the successor
-- from 7 on.
-- The sealed successor lives in its own key that Redis forgets once the grace has passed;
-- a rotation also forgets the device's seals past the grace at once, whatever Redis's clock
-- says. The consumed record stays for reuse detection.
-- Returns {1} when rotated; else {0, the presented token's hash fields (empty when
-- unknown), its seal (false when forgotten)} so that the caller applies rule R.
local presented, successor, set, seal, seals = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local stored = redis.call('HGETALL', presented)
if #stored == 0 then return {0, stored, false} end
local rotated = redis.call('HGET', presented, 'rotated_at')
local expires = tonumber(redis.call('HGET', presented, 'expires'))
if rotated ~= false or tonumber(ARGV[1]) >= expires then
  return {0, stored, redis.call('GET', seal)}
end
redis.call('HSET', presented, 'rotated_at', ARGV[1], 'successor', ARGV[2])
local past = redis.call('ZRANGEBYSCORE', seals, '-inf', '(' .. ARGV[6])
for _, old in ipairs(past) do redis.call('DEL', old) end
redis.call('ZREMRANGEBYSCORE', seals, '-inf', '(' .. ARGV[6])
redis.call('SET', seal, ARGV[3], 'PX', ARGV[5])
redis.call('ZADD', seals, ARGV[1], seal)
redis.call('PEXPIRE', seals, ARGV[5])
local fields = {}
for i = 7, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', successor, unpack(fields))
redis.call('PEXPIREAT', successor, ARGV[4])
redis.call('SADD', set, ARGV[2])
if redis.call('PEXPIRETIME', set) < tonumber(ARGV[4]) then
  redis.call('PEXPIREAT', set, ARGV[4])
end
return {1}
