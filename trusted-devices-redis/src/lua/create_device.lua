-- Rule L in one atomic step for one user: apply single login or the device limit, then
-- insert. KEYS: 1 the user's created-at index, 2 last-seen index, 3 the new device's hash,
-- then (4...) the hash of every device the created-at index named when the caller read it:
-- every key the script touches is declared.
-- ARGV: 1 device id, 2 created_at, 3 last_seen, 4 single login (0/1), 5 max devices (0 =
-- none), 6 eviction (reject | lru | oldest), 7 device-key prefix, 8 expire-at ms, then
-- field/value pairs of the new device's hash from 9 on.
-- Returns {-1} when the script would have to touch a device the caller did not declare (one
-- created since the caller read the index: read again and retry), {0} when the limit
-- refuses, else {1, displaced device hashes...}. Nothing is written before a refusal or a
-- retry.
local created, seen, key = KEYS[1], KEYS[2], KEYS[3]
local id, prefix = ARGV[1], ARGV[7]

local declared = {}
for i = 4, #KEYS do declared[KEYS[i]] = true end

-- A declared entry whose device hash has gone (its TTL passed before cleanup, or maxmemory
-- evicted it) is no device: it is pruned and never counts against the limit. An entry
-- created since the caller's read is not declared: it is a device just written, and counts.
for _, member in ipairs(redis.call('ZRANGE', created, 0, -1)) do
  local member_key = prefix .. member
  if declared[member_key] and redis.call('EXISTS', member_key) == 0 then
    redis.call('ZREM', created, member)
    redis.call('ZREM', seen, member)
  end
end

local victims = {}
if ARGV[4] == '1' then
  victims = redis.call('ZRANGE', created, 0, -1)
else
  local max = tonumber(ARGV[5])
  local held = redis.call('ZCARD', created)
  if max > 0 and held >= max then
    if ARGV[6] == 'reject' then return {0} end
    local order = created
    if ARGV[6] == 'lru' then order = seen end
    victims = redis.call('ZRANGE', order, 0, held - max)
  end
end
for _, victim in ipairs(victims) do
  if not declared[prefix .. victim] then return {-1} end
end

local displaced = {}
for _, victim in ipairs(victims) do
  local victim_key = prefix .. victim
  table.insert(displaced, redis.call('HGETALL', victim_key))
  redis.call('DEL', victim_key)
  redis.call('ZREM', created, victim)
  redis.call('ZREM', seen, victim)
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
