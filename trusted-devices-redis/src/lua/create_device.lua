-- Rule L in one atomic step for one user: apply single login or the device limit, then
-- insert. KEYS: 1 the user's created-at index, 2 last-seen index, 3 the new device's hash,
-- then (4...) the hash of every device the created-at index named when the caller read it:
-- every key the script touches is declared.
-- ARGV: 1 device id, 2 created_at, 3 last_seen, 4 what the core's DeviceLimit::admission
-- answers for a user at the limit (admit | replace_all | reject | lru | oldest), 5 the limit
-- (0 = none), 6 device-key prefix, 7 expire-at ms, then field/value pairs of the new
-- device's hash from 8 on. This script mirrors DeviceLimit::admission only where it must
-- (the count of held devices is known here alone); the shared table
-- trusted_devices_core::testing::RULE_L_CASES checks that they agree.
-- Returns {-1} when the script would have to touch a device the caller did not declare (one
-- created since the caller read the index: read again and retry), {0} when the limit
-- refuses, else {1, displaced device hashes...}. Nothing is written before a refusal or a
-- retry.
local created, seen, key = KEYS[1], KEYS[2], KEYS[3]
local id, prefix = ARGV[1], ARGV[6]

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
local at_limit, max = ARGV[4], tonumber(ARGV[5])
if at_limit == 'replace_all' then
  victims = redis.call('ZRANGE', created, 0, -1)
elseif at_limit ~= 'admit' then
  local held = redis.call('ZCARD', created)
  if held >= max then
    if at_limit == 'reject' then return {0} end
    local order = created
    if at_limit == 'lru' then order = seen end
    -- held - max + 1 devices, as admission() counts them.
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
for i = 8, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIREAT', key, ARGV[7])
redis.call('ZADD', created, ARGV[2], id)
redis.call('ZADD', seen, ARGV[3], id)
-- The indexes live as long as their longest-lived device.
for _, index in ipairs({created, seen}) do
  if redis.call('PEXPIRETIME', index) < tonumber(ARGV[7]) then
    redis.call('PEXPIREAT', index, ARGV[7])
  end
end
local result = {1}
for _, hash in ipairs(displaced) do table.insert(result, hash) end
return result
