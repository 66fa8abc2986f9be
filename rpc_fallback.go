package herald

import (
	"context"
	"encoding/json"
)

// RPCFallbackHandler answers the RPC methods that have no handler of their
// own (OnRPC): it gets the method's name and decides, returning
// ErrMethodNotFound for the methods it does not serve either.
type RPCFallbackHandler func(ctx context.Context, s *Session, method string, data json.RawMessage) (any, error)

// OnRPCFallback registers the handler of RPC methods without an OnRPC
// handler of their own, replacing any earlier one. Methods registered with
// OnRPC always win. Without one, such methods answer 104 (method not
// found).
func (n *Node) OnRPCFallback(fn RPCFallbackHandler) {
	n.updateHandlers(func(h *handlers) { h.rpcFallback = fn })
}

// rpcHandler returns the handler of method: its own, the fallback, or nil.
func (h *handlers) rpcHandler(method string) RPCHandler {
	if fn := h.rpc[method]; fn != nil {
		return fn
	}
	if h.rpcFallback == nil {
		return nil
	}
	fb := h.rpcFallback
	return func(ctx context.Context, s *Session, data json.RawMessage) (any, error) {
		return fb(ctx, s, method, data)
	}
}
