package proxy

import (
	"context"

	"github.com/heraldrt/herald"
)

// PreferToken combines the JWT rules with the connect proxy: a connect
// that carries a token goes to token (auth.ConnectHandler, say), one
// without a token to backend. So a client may authenticate either way,
// and a bad token is refused by the JWT rules, never retried with the
// backend.
//
// The other events need no combining: a node has one handler per event,
// so an event the proxy is configured for is the proxy's (refresh,
// subscribe, publish, send, RPC), and the others keep the node's rules
// (namespace permissions, JWT refresh). Private channels ($...) need their
// channel token first, whatever decides after.
func PreferToken(token, backend herald.ConnectHandler) herald.ConnectHandler {
	return func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		if e.Token != "" {
			return token(ctx, e)
		}
		return backend(ctx, e)
	}
}
