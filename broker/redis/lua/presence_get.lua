-- presence_get.lua: drop expired entries, then return the rest.
--
-- KEYS[1] presence hash, KEYS[2] expiry sorted set; ARGV[1] now (Unix ms)
local expired = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", ARGV[1])
for _, client in ipairs(expired) do
  redis.call("HDEL", KEYS[1], client)
  redis.call("ZREM", KEYS[2], client)
end
return redis.call("HGETALL", KEYS[1])
