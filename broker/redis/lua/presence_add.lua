-- presence_add.lua: add or refresh one client's presence entry.
--
-- KEYS[1] presence hash, KEYS[2] expiry sorted set
-- ARGV[1] client id, ARGV[2] ClientInfo JSON, ARGV[3] entry expiry (Unix ms),
-- ARGV[4] TTL in ms of the two keys (a channel nobody refreshes vanishes)
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[4])
redis.call("PEXPIRE", KEYS[2], ARGV[4])
return 1
