-- Sets fields of an existing device and returns its hash ({} when absent).
-- KEYS: the device hash. ARGV: field/value pairs.
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return redis.call('HGETALL', KEYS[1])
