-- Deletes every token of one device (ARGV: 1 token-key prefix), or one token if it has
-- expired (ARGV: 1 prefix, 2 hash hex, 3 now). KEYS: the device's token set.
-- Returns the hashes (hex) deleted.
local set, prefix = KEYS[1], ARGV[1]
if #ARGV == 1 then
  local hashes = redis.call('SMEMBERS', set)
  for _, hash in ipairs(hashes) do redis.call('DEL', prefix .. hash) end
  redis.call('DEL', set)
  return hashes
end
local key = prefix .. ARGV[2]
local expires = redis.call('HGET', key, 'expires')
if expires ~= false and tonumber(expires) <= tonumber(ARGV[3]) then
  redis.call('DEL', key)
  redis.call('SREM', set, ARGV[2])
  return {ARGV[2]}
end
return {}
