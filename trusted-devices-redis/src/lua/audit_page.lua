-- Rule H: one page of a user's history, newest first. KEYS: 1 the order, 2 the entries.
-- ARGV: 1 the exclusive upper bound ('+' for the newest, else '(' .. a member), 2 the
-- page size. Returns member, entry (JSON or false when missing), member, entry...
local members = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], '-', 'LIMIT', 0, tonumber(ARGV[2]))
if #members == 0 then return {} end
local entries = redis.call('HMGET', KEYS[2], unpack(members))
local out = {}
for i, member in ipairs(members) do
  out[#out + 1] = member
  out[#out + 1] = entries[i]
end
return out
