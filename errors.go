package herald

import (
	"errors"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

// Error is the typed error of the protocol: a code and a message, sent to the
// client in a command's reply. Handlers return an *Error to choose what the
// client sees; any other error reaches the client as code 100 (internal) and
// is logged.
type Error = protocol.Error

// NewError returns an *Error with code and message. Applications use codes
// from 1000 up for their own errors.
func NewError(code int, message string) *Error { return &Error{Code: code, Message: message} }

// Errors a handler can return to refuse a command with the standard code.
var (
	ErrUnauthorized      = protocol.NewError(protocol.CodeUnauthorized)
	ErrUnknownChannel    = protocol.NewError(protocol.CodeUnknownChannel)
	ErrPermissionDenied  = protocol.NewError(protocol.CodePermissionDenied)
	ErrMethodNotFound    = protocol.NewError(protocol.CodeMethodNotFound)
	ErrLimitExceeded     = protocol.NewError(protocol.CodeLimitExceeded)
	ErrBadRequest        = protocol.NewError(protocol.CodeBadRequest)
	ErrNotAvailable      = protocol.NewError(protocol.CodeNotAvailable)
	ErrTokenExpired      = protocol.NewError(protocol.CodeTokenExpired)
	ErrTooManyRequests   = protocol.NewError(protocol.CodeTooManyRequests)
	ErrAlreadySubscribed = protocol.NewError(protocol.CodeAlreadySubscribed)
	// ErrHistoryDisabled is returned by History for a channel whose
	// ChannelOptions keep no history (HistorySize 0).
	ErrHistoryDisabled = protocol.NewError(protocol.CodeNotAvailable, "history is not enabled for this channel (set a history size for its namespace)")
	// ErrPresenceDisabled is returned by Presence for a channel whose
	// namespace keeps no presence.
	ErrPresenceDisabled = protocol.NewError(protocol.CodeNotAvailable, "presence is not enabled for this channel")
	// ErrBrokerUnavailable is what a client sees when the broker cannot be
	// reached or does not answer in time: nothing is acknowledged falsely.
	// A publish may or may not have been accepted, so a retry should carry
	// the same idempotency key.
	ErrBrokerUnavailable = protocol.NewError(protocol.CodeInternal, "the broker is unavailable: retry later (a publish may or may not have been accepted; retry it with the same idempotency key)")
	// ErrPublicationTooLarge is returned for publication data larger than
	// Config.MaxPublicationSize.
	ErrPublicationTooLarge = protocol.NewError(protocol.CodeLimitExceeded, "publication data is larger than the server's limit")
)

// Errors returned by the Node's own methods.
var (
	// ErrNodeClosed is returned after Shutdown began.
	ErrNodeClosed = errors.New("herald: node is shutting down; create a new Node to serve again")
	// ErrInvalidChannel is returned for an empty channel name.
	ErrInvalidChannel = errors.New("herald: channel name must not be empty")
	// ErrInvalidData is returned when publication data is not valid JSON.
	ErrInvalidData = errors.New("herald: data must be valid JSON (wrap text in quotes)")
	// ErrInvalidTarget is returned by Disconnect without a user or client.
	ErrInvalidTarget = errors.New("herald: disconnect needs a user or a client id")
)

// toProtocolError turns a handler's error into what the client sees: the
// *Error itself, or code 100 for anything else (the cause is logged, never
// sent).
func toProtocolError(err error) (*Error, bool) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe, true
	}
	if errors.Is(err, broker.ErrUnavailable) {
		return ErrBrokerUnavailable, true // logged and counted by the instrumented broker
	}
	return protocol.NewError(protocol.CodeInternal), false
}

// errStop tells handleFrame to stop running a frame's commands: the
// connection is closing.
var errStop = errors.New("stop handling this frame")

// Errors of the limits.
var (
	ErrChannelTooLong      = protocol.NewError(protocol.CodeBadRequest, "channel name is too long")
	ErrChannelInvalid      = protocol.NewError(protocol.CodeBadRequest, "channel name must be valid UTF-8 without spaces or control characters")
	ErrTooManyChannels     = protocol.NewError(protocol.CodeLimitExceeded, "too many subscriptions on this connection")
	ErrTooManyConnections  = protocol.NewError(protocol.CodeLimitExceeded, "too many connections for this user")
	errCommandRateExceeded = protocol.NewError(protocol.CodeTooManyRequests, "too many commands: slow down")
)
