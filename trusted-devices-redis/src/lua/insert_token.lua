-- Stores a token hash and adds it to its device's set. KEYS: token hash, device token set.
-- ARGV: 1 hash (hex), 2 expire-at ms, then field/value pairs.
local fields = {}
for i = 3, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
end
return 1
