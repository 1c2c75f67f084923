-- Rule H: appends one entry to a user's history. KEYS: 1 the history's order (a sorted
-- set read by lex order, every score 0), 2 the entries (a hash). ARGV: 1 the member (the
-- entry's position: 16 hex digits of its instant, then its id), 2 the entry (JSON, stored
-- format version 1), 3 the keys' expiry in Unix ms (only ever moved later).
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
for _, key in ipairs(KEYS) do
  redis.call('PEXPIREAT', key, ARGV[3], 'NX')
  redis.call('PEXPIREAT', key, ARGV[3], 'GT')
end
return 1
