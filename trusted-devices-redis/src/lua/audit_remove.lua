-- Rule H's retention: removes entries from one user's history. KEYS: 1 the order, 2 the
-- entries. ARGV: the members. Returns how many the order held.
local removed = redis.call('ZREM', KEYS[1], unpack(ARGV))
redis.call('HDEL', KEYS[2], unpack(ARGV))
return removed
