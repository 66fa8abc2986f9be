// Package transport holds what Herald's transports share: the Peer that a
// connection hands its client's messages to (package websocket for
// WebSocket, package httpstream for HTTP-streaming and Server-Sent
// Events), and the HTTP answer to a connection the node refuses.
package transport

import "net/http"

// Peer is the upper layer's side of one connection.
type Peer interface {
	// HandleFrame handles one message (on WebSocket) or the commands of
	// one POST (on a stream), newline-separated. Calls for one connection
	// are serialized, in order. frame is only valid during the call. text
	// is false for a binary message.
	HandleFrame(frame []byte, text bool)
	// HandleClose is called once, after the connection ended. err says
	// why when the transport ended it (a protocol error, a size limit, a
	// client that stopped reading), and is nil for a normal close.
	HandleClose(err error)
}

// CloseCoder is implemented by a close error that names the close code
// its client is told: a transport's own reason to end a connection (a
// stream whose client stopped reading, say) carries the protocol's code
// for it, so that the node reports it as it would on any transport.
type CloseCoder interface {
	error
	// CloseCode returns the close code and its reason.
	CloseCode() (code int, reason string)
}

// CloseCause is a CloseCoder: an error with a close code.
type CloseCause struct {
	Code   int
	Reason string
	Msg    string // the error's text, for logs
}

// Error returns the cause's text.
func (e *CloseCause) Error() string { return e.Msg }

// CloseCode returns the code and reason the client is told.
func (e *CloseCause) CloseCode() (int, string) { return e.Code, e.Reason }

// Refuse answers a connection the node does not take with status (503
// when 0) and msg; a refusal that may pass soon (429, 503) asks the
// client to retry after a second.
func Refuse(w http.ResponseWriter, status int, msg string) {
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, msg, status)
}
