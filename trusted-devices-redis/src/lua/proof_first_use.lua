-- SPEC §9: a DPoP proof's first use, in one atomic step. KEYS[1] counts the key's proofs
-- in the current window, KEYS[2] is the proof; both share the key's hash tag.
-- ARGV[1]: the proof's lifetime in ms; ARGV[2]: the key's share.
-- Returns 1 first use, 0 replayed, 2 over the key's share (nothing recorded).
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[2]) then
  return 2
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 1
