-- Rule R's compare-and-swap: consumes a live, unconsumed token and stores its successor.
-- KEYS: presented token hash, successor token hash, the device's token set.
-- ARGV: 1 now, 2 successor hash (hex), 3 sealed successor (hex), 4 successor expire-at ms,
-- then field/value pairs of the successor from 5 on.
-- Returns {1} when rotated; else {0, the presented token's hash fields} (empty when
-- unknown) so that the caller applies rule R to what is stored.
local presented, successor, set = KEYS[1], KEYS[2], KEYS[3]
local stored = redis.call('HGETALL', presented)
if #stored == 0 then return {0, stored} end
local rotated = redis.call('HGET', presented, 'rotated_at')
local expires = tonumber(redis.call('HGET', presented, 'expires'))
if rotated ~= false or tonumber(ARGV[1]) >= expires then return {0, stored} end
redis.call('HSET', presented, 'rotated_at', ARGV[1], 'successor', ARGV[2], 'sealed', ARGV[3])
local fields = {}
for i = 5, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', successor, unpack(fields))
redis.call('PEXPIREAT', successor, ARGV[4])
redis.call('SADD', set, ARGV[2])
if redis.call('PEXPIRETIME', set) < tonumber(ARGV[4]) then
  redis.call('PEXPIREAT', set, ARGV[4])
end
return {1}
