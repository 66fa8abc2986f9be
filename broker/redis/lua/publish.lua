-- publish.lua: one publication, atomically. Run with EVALSHA.
--
-- KEYS[1] meta hash     (e = epoch, s = newest offset)
-- KEYS[2] stream        (entries <offset>-0, field d)
-- KEYS[3] idempotency key (KEYS[1] again when there is none)
-- ARGV[1] publication JSON, without its offset
-- ARGV[2] history size: 0 keeps no history and gives offset 0, epoch ""
-- ARGV[3] history TTL in ms after this publication; 0 keeps it
-- ARGV[4] epoch to use if the stream has none (a new or lost stream)
-- ARGV[5] idempotency window in ms; 0 when there is no key
-- ARGV[6] pub/sub channel to PUBLISH to
--
-- Returns {duplicate (0|1), offset, epoch}.
local meta, stream, idem = KEYS[1], KEYS[2], KEYS[3]
local size, ttl, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])

if window > 0 then
  local seen = redis.call("GET", idem)
  if seen then
    local sp = string.find(seen, " ", 1, true)
    return {1, string.sub(seen, 1, sp - 1), string.sub(seen, sp + 1)}
  end
end

local offset, epoch = 0, ""
if size > 0 then
  epoch = redis.call("HGET", meta, "e")
  if not epoch then
    -- No meta: a new stream, or one whose history Redis lost (expired,
    -- restarted without persistence). Either way a new epoch, and no
    -- leftover entries whose IDs would clash with the restarted offsets.
    epoch = ARGV[4]
    redis.call("DEL", stream)
    redis.call("HSET", meta, "e", epoch)
  end
  offset = redis.call("HINCRBY", meta, "s", 1)
  redis.call("XADD", stream, "MAXLEN", size, offset .. "-0", "d", ARGV[1])
  if ttl > 0 then
    redis.call("PEXPIRE", meta, ttl)
    redis.call("PEXPIRE", stream, ttl)
  else
    redis.call("PERSIST", meta)
    redis.call("PERSIST", stream)
  end
end

if window > 0 then
  redis.call("SET", idem, offset .. " " .. epoch, "PX", window)
end
redis.call("PUBLISH", ARGV[6], "p" .. offset .. " " .. epoch .. " " .. ARGV[1])
return {0, offset, epoch}
