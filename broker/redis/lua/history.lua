-- history.lua: a stream's position and a range of it, read atomically.
--
-- KEYS[1] meta hash, KEYS[2] stream
-- ARGV[1] "1" to create the meta (with epoch ARGV[2]) when there is none,
--         so that the epoch a subscriber is told survives the first publish
-- ARGV[2] epoch for a created meta
-- ARGV[3] TTL in ms of a created meta
-- ARGV[4] epoch the caller expects ("" for any): on mismatch no entries
-- ARGV[5] lowest ID ("-" for the oldest), ARGV[6] highest ID ("+" for the newest)
-- ARGV[7] at most this many entries; negative for all, 0 for none
-- ARGV[8] "1" for newest first
--
-- Returns {top offset, epoch, entries}; epoch is "" when the stream does
-- not exist (and was not created).
local meta, stream = KEYS[1], KEYS[2]
local epoch = redis.call("HGET", meta, "e")
if not epoch then
  if ARGV[1] ~= "1" then
    return {"0", "", {}}
  end
  epoch = ARGV[2]
  redis.call("DEL", stream)
  redis.call("HSET", meta, "e", epoch, "s", 0)
  redis.call("PEXPIRE", meta, ARGV[3])
end
local top = redis.call("HGET", meta, "s") or "0"
local count = tonumber(ARGV[7])
if count == 0 or (ARGV[4] ~= "" and ARGV[4] ~= epoch) then
  return {top, epoch, {}}
end
local entries
if ARGV[8] == "1" then
  if count > 0 then
    entries = redis.call("XREVRANGE", stream, ARGV[6], ARGV[5], "COUNT", count)
  else
    entries = redis.call("XREVRANGE", stream, ARGV[6], ARGV[5])
  end
elseif count > 0 then
  entries = redis.call("XRANGE", stream, ARGV[5], ARGV[6], "COUNT", count)
else
  entries = redis.call("XRANGE", stream, ARGV[5], ARGV[6])
end
return {top, epoch, entries}
