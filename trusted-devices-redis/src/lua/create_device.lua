-- Rule L in one atomic step for one user: apply single login or the device limit, then
-- insert. KEYS: the user's created-at index, last-seen index, the new device's hash.
-- ARGV: 1 device id, 2 created_at, 3 last_seen, 4 single login (0/1), 5 max devices (0 =
-- none), 6 eviction (reject | lru | oldest), 7 device-key prefix, 8 expire-at ms, then
-- field/value pairs of the new device's hash from 9 on.
-- Returns {0} when the limit refuses, else {1, displaced device hashes...}.
local created, seen, key = KEYS[1], KEYS[2], KEYS[3]
local id, prefix = ARGV[1], ARGV[7]
local displaced = {}

local function remove(victim)
  local victim_key = prefix .. victim
  table.insert(displaced, redis.call('HGETALL', victim_key))
  redis.call('DEL', victim_key)
  redis.call('ZREM', created, victim)
  redis.call('ZREM', seen, victim)
end

if ARGV[4] == '1' then
  for _, victim in ipairs(redis.call('ZRANGE', created, 0, -1)) do remove(victim) end
else
  local max = tonumber(ARGV[5])
  local held = redis.call('ZCARD', created)
  if max > 0 and held >= max then
    if ARGV[6] == 'reject' then return {0} end
    local order = created
    if ARGV[6] == 'lru' then order = seen end
    for _, victim in ipairs(redis.call('ZRANGE', order, 0, held - max)) do remove(victim) end
  end
end

local fields = {}
for i = 9, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIREAT', key, ARGV[8])
redis.call('ZADD', created, ARGV[2], id)
redis.call('ZADD', seen, ARGV[3], id)
-- The indexes live as long as their longest-lived device.
for _, index in ipairs({created, seen}) do
  if redis.call('PEXPIRETIME', index) < tonumber(ARGV[8]) then
    redis.call('PEXPIREAT', index, ARGV[8])
  end
end
local result = {1}
for _, hash in ipairs(displaced) do table.insert(result, hash) end
return result
