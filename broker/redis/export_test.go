package redis

// PublishScript is publish.lua, for tests that make a publication without
// its pub/sub message (the message Redis pub/sub can lose).
var PublishScript = publishSrc
