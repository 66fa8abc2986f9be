package protocol

// Error codes carried in command replies (`{"id":N,"error":{"code":C,...}}`).
// Codes 100 to 199 belong to Herald; 1000 and up belong to applications.
const (
	CodeInternal          = 100 // the server failed; retrying later may help
	CodeUnauthorized      = 101 // the token is missing or invalid
	CodeUnknownChannel    = 102 // the channel's namespace is not configured
	CodePermissionDenied  = 103 // the connection may not do this on this channel
	CodeMethodNotFound    = 104 // no RPC handler is registered for the method
	CodeAlreadySubscribed = 105 // the connection is already subscribed to the channel
	CodeLimitExceeded     = 106 // a configured limit would be exceeded
	CodeBadRequest        = 107 // the command is malformed or has invalid fields
	CodeNotAvailable      = 108 // the feature is not enabled for this channel or server
	CodeTokenExpired      = 109 // the token expired; refresh it
	CodeTooManyRequests   = 110 // the connection sends commands too fast
	CodeNotSubscribed     = 111 // the connection is not subscribed to the channel
	// CodeBackendUnavailable: the application's backend, called through
	// the HTTP proxy, did not answer usably in time (unreachable, slow,
	// failing, or too many calls already in flight); retry later.
	CodeBackendUnavailable = 112
)

// Codes of the `unsub` push, which ends a subscription on the server's
// initiative. They share the error code range; the client should not
// resubscribe on its own.
const (
	CodeUnsubscribedByServer = 120 // the server (API or application) ended the subscription
)

// Close codes sent in the `disconnect` push and in the WebSocket close frame.
//
// 3000 to 3499 mean "reconnect" (with backoff); 3500 to 3999 mean "do not
// reconnect" until something changes (a new token, a fixed client);
// 4000 to 4999 belong to applications. A few standard WebSocket codes
// (1000, 1001, 1002, 1007, 1009, 1011) also reach clients, sent by the
// transport itself.
const (
	CloseShutdown          = 3000 // the node is shutting down or restarting
	CloseNoPong            = 3001 // the client did not answer a ping in time
	CloseSlowConsumer      = 3002 // the client did not read fast enough; its queue overflowed
	CloseInsufficientState = 3003 // the server lost the connection's delivery state; reconnect and recover
	CloseForceReconnect    = 3004 // the server asked the client to reconnect
	CloseTokenExpired      = 3005 // the token expired without a refresh; reconnect with a new token
	CloseConnectTimeout    = 3006 // no connect command arrived in time
	CloseServerError       = 3007 // an internal error on the server; reconnect

	CloseInvalidToken    = 3500 // the token is invalid; do not reconnect with it
	CloseBadRequest      = 3501 // the client broke the protocol; fix the client
	CloseConnectionLimit = 3502 // a connection limit was reached
	CloseForbidden       = 3503 // the server refuses this client (kicked or banned)
	CloseUnsupported     = 3504 // unsupported frame type or protocol version
)

// closeReasons maps Herald's close codes to their short reason strings.
var closeReasons = map[int]string{
	CloseShutdown:          "shutdown",
	CloseNoPong:            "no pong",
	CloseSlowConsumer:      "slow consumer",
	CloseInsufficientState: "insufficient state",
	CloseForceReconnect:    "force reconnect",
	CloseTokenExpired:      "token expired",
	CloseConnectTimeout:    "connect timeout",
	CloseServerError:       "server error",
	CloseInvalidToken:      "invalid token",
	CloseBadRequest:        "bad request",
	CloseConnectionLimit:   "connection limit",
	CloseForbidden:         "forbidden",
	CloseUnsupported:       "unsupported",
}

// CloseReason returns the standard short reason for a Herald close code, or ""
// for codes it does not define.
func CloseReason(code int) string { return closeReasons[code] }

// ShouldReconnect reports whether a client that was closed with code should
// reconnect. Codes below 3000 are the standard WebSocket ones: a normal close
// (1000) does not reconnect, every abnormal one does, except protocol errors
// caused by the client itself (1002, 1003, 1007, 1009).
func ShouldReconnect(code int) bool {
	switch {
	case code >= 3000 && code < 3500:
		return true
	case code >= 3500 && code < 5000:
		return false
	case code == 1000, code == 1002, code == 1003, code == 1007, code == 1009:
		return false
	default:
		return true
	}
}

var errorMessages = map[int]string{
	CodeInternal:           "internal server error",
	CodeUnauthorized:       "unauthorized",
	CodeUnknownChannel:     "unknown channel",
	CodePermissionDenied:   "permission denied",
	CodeMethodNotFound:     "method not found",
	CodeAlreadySubscribed:  "already subscribed",
	CodeLimitExceeded:      "limit exceeded",
	CodeBadRequest:         "bad request",
	CodeNotAvailable:       "not available",
	CodeTokenExpired:       "token expired",
	CodeTooManyRequests:    "too many requests",
	CodeNotSubscribed:      "not subscribed",
	CodeBackendUnavailable: "backend unavailable",
}

// ErrorMessage returns the standard message for a Herald error code, or "" for
// codes it does not define.
func ErrorMessage(code int) string { return errorMessages[code] }

// RefusedConnectCloseCode is the close code that follows a connect refused
// with error code: the server closes with it, and a client uses it when the
// server's close frame does not arrive.
func RefusedConnectCloseCode(code int) int {
	switch code {
	case CodeInternal:
		return CloseServerError
	case CodeUnauthorized:
		return CloseInvalidToken
	case CodeTokenExpired:
		return CloseTokenExpired
	case CodeLimitExceeded:
		return CloseConnectionLimit
	case CodeTooManyRequests, CodeBackendUnavailable:
		return CloseForceReconnect // come back later, with backoff
	default:
		return CloseForbidden
	}
}
