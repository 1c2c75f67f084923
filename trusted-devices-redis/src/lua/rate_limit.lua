-- Rule K: one token bucket as GCRA, the core's `rate_limit::gcra` step for step (that
-- function is the rule; this is its atomic copy for buckets shared by several servers).
-- KEYS[1]: the bucket. ARGV: 1 now (µs since the epoch, the core's clock), 2 interval
-- between tokens (µs), 3 burst (µs: count - 1 intervals), 4 '1' to take a token, '0' to
-- look only. Returns {1, 0} admitted, or {0, wait in µs}.
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[1])
local arrival = now
if stored then arrival = math.max(tonumber(stored), now) end
local waited = arrival - now
if waited > burst then return {0, waited - burst} end
if ARGV[4] == '1' then
  local next = arrival + interval
  -- Integers as text: a Lua number would be written with 14 digits and lose microseconds.
  -- The key lives until the bucket is full again, then a missing key means full.
  redis.call('SET', KEYS[1], string.format('%d', next), 'PX', string.format('%d', math.floor((next - now) / 1000) + 1))
end
return {1, 0}
