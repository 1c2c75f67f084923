-- Deletes tokens of one device. KEYS: 1 the device's token set, then (2...) token keys.
-- ARGV: 1 token-key prefix, then either nothing (every token: KEYS name every token the
-- set held when the caller read it) or 2 a hash (hex) and 3 now (that one token, if it has
-- expired; KEYS[2] is its key).
-- Returns {-1} when the set names a token the caller did not declare (read again and
-- retry; nothing was written), else {1, the hashes (hex) deleted...}.
local set, prefix = KEYS[1], ARGV[1]
if #ARGV == 1 then
  local declared = {}
  for i = 2, #KEYS do declared[KEYS[i]] = true end
  local hashes = redis.call('SMEMBERS', set)
  for _, hash in ipairs(hashes) do
    if not declared[prefix .. hash] then return {-1} end
  end
  local removed = {1}
  for _, hash in ipairs(hashes) do
    redis.call('DEL', prefix .. hash)
    table.insert(removed, hash)
  end
  redis.call('DEL', set)
  return removed
end
local key = KEYS[2]
local expires = redis.call('HGET', key, 'expires')
if expires ~= false and tonumber(expires) <= tonumber(ARGV[3]) then
  redis.call('DEL', key)
  redis.call('SREM', set, ARGV[2])
  return {1, ARGV[2]}
end
if expires == false then
  -- Already gone (its TTL passed): prune the set's entry.
  redis.call('SREM', set, ARGV[2])
end
return {1}
