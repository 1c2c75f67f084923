-- Deletes devices of one user and returns their hashes.
-- KEYS: 1 created-at index, 2 last-seen index, then (3...) the hashes of the devices the
-- caller may delete: the one named (modes one, expired) or every device the created-at
-- index named when the caller read it (modes others, all).
-- ARGV: 1 device-key prefix, 2 mode (one | others | all | expired), 3 device id (the one
-- to delete, or to keep), 4 now (for expired).
-- Returns {-1} when the index names a device the caller did not declare (read again and
-- retry; nothing was written), else {1, removed hashes...}. Index entries whose hash has
-- gone are pruned on the way.
local created, seen = KEYS[1], KEYS[2]
local prefix, mode, id, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local victims = {}
if mode == 'one' or mode == 'expired' then
  victims = {id}
else
  local declared = {}
  for i = 3, #KEYS do declared[KEYS[i]] = true end
  for _, member in ipairs(redis.call('ZRANGE', created, 0, -1)) do
    if mode == 'all' or member ~= id then
      if not declared[prefix .. member] then return {-1} end
      table.insert(victims, member)
    end
  end
end
local removed = {1}
for _, victim in ipairs(victims) do
  local key = prefix .. victim
  local hash = redis.call('HGETALL', key)
  local due = true
  if mode == 'expired' and #hash > 0 then
    local deadline = redis.call('HGET', key, 'deadline')
    due = deadline ~= false and tonumber(deadline) <= tonumber(now)
  end
  if #hash == 0 then
    -- A dangling index entry: prune it.
    redis.call('ZREM', created, victim)
    redis.call('ZREM', seen, victim)
  elseif due then
    table.insert(removed, hash)
    redis.call('DEL', key)
    redis.call('ZREM', created, victim)
    redis.call('ZREM', seen, victim)
  end
end
return removed
