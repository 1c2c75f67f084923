-- Deletes devices of one user and returns their hashes. KEYS: created-at index, last-seen
-- index. ARGV: 1 device-key prefix, 2 mode (one | others | all | expired), 3 device id (the
-- one to delete, or to keep), 4 now (for expired).
local created, seen = KEYS[1], KEYS[2]
local prefix, mode, id, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local victims = {}
if mode == 'one' or mode == 'expired' then
  victims = {id}
else
  for _, candidate in ipairs(redis.call('ZRANGE', created, 0, -1)) do
    if mode == 'all' or candidate ~= id then table.insert(victims, candidate) end
  end
end
local removed = {}
for _, victim in ipairs(victims) do
  local key = prefix .. victim
  local hash = redis.call('HGETALL', key)
  local due = true
  if mode == 'expired' then
    local deadline = redis.call('HGET', key, 'deadline')
    due = deadline ~= false and tonumber(deadline) <= tonumber(now)
  end
  if #hash > 0 and due then
    table.insert(removed, hash)
    redis.call('DEL', key)
    redis.call('ZREM', created, victim)
    redis.call('ZREM', seen, victim)
  end
end
return removed
