// Package auth verifies Herald's connection and channel tokens: JSON Web
// Tokens signed with an HMAC secret (HS256, HS384, HS512), with RSA keys
// (RS256..RS512, PS256..PS512), ECDSA keys (ES256, ES384, ES512) or Ed25519
// keys (EdDSA), taken from PEM files or from a JWKS URL.
//
// # Claims
//
// A connection token names its user in sub (required). exp is enforced
// with Config.Leeway; aud and iss are checked when Config sets Audience and
// Issuer. A token may carry info, a JSON object shown to others as the
// client's presence data, and channels, a list of channels the server
// subscribes the connection to at connect:
//
//	{"sub": "alice", "exp": 1767225600, "info": {"name": "Alice"}, "channels": ["news"]}
//
// A channel token grants one subscription. It names the channel in channel
// and, optionally, the user allowed to use it in sub:
//
//	{"sub": "alice", "exp": 1767225600, "channel": "$alice-inbox"}
//
// A channel token is never accepted as a connection token, nor a connection
// token as a channel token.
//
// # What is refused
//
// The algorithm a token names must match the kind of key it is checked with:
// an HMAC token is only ever checked with the HMAC secret, and an RSA, ECDSA
// or Ed25519 token only with public keys of that kind, so a token signed
// with a public key used as an HMAC secret is refused, and so is "alg":
// "none". The JWKS URL comes from Config alone; nothing in a token (jku, x5u,
// kid) chooses where keys are fetched from. A kid only selects among the keys
// already configured or fetched.
//
// Verify returns errors that wrap ErrInvalidToken or ErrTokenExpired, and
// also herald.ErrUnauthorized or herald.ErrTokenExpired, so that an OnConnect
// or OnSubscribe handler can return them as they are: the client sees error
// 101 (and close code 3500 on connect) or 109 (close code 3005, reconnect
// with a new token). When the JWKS cannot be fetched, the error wraps
// ErrKeysUnavailable and no protocol error: the client sees error 100 and
// close code 3007, and reconnects later.
//
// # Use
//
// ConnectHandler, RefreshHandler and SubscribeHandler plug a Verifier into a
// herald.Node:
//
//	v, err := auth.NewVerifier(auth.Config{HMACSecret: secret})
//	if err != nil { ... }
//	node.OnConnect(auth.ConnectHandler(v))
//	node.OnRefresh(auth.RefreshHandler(v))
//	node.OnSubscribe(auth.SubscribeHandler(v, "$"))
//	node.OnPublish(auth.PublishHandler("$"))
//
// A connection lives as long as its token: ConnectHandler gives it the
// token's exp as its expiry, the server asks the client for a new token
// before then (the `refresh` push), and RefreshHandler accepts a new token
// for the same user, which moves the expiry. A connection that is not
// refreshed in time is closed with 3005, and the client reconnects with a
// new token.
//
// Mint makes HMAC tokens, for tests and for the herald token command.
// Backends usually mint tokens with their own JWT library.
package auth
