package client

import (
	"errors"
	"strconv"

	"github.com/heraldrt/herald/protocol"
)

// Error is the error a server sends in a command's reply: a code (see
// package protocol; 1000 and up belong to applications) and a message.
// Every error the client returns for a refused command has an *Error in its
// chain:
//
//	var herr *client.Error
//	if errors.As(err, &herr) && herr.Code == 1001 { ... }
//
// errors.Is matches the sentinels below by code, whatever the message:
//
//	if errors.Is(err, client.ErrMethodNotFound) { ... }
type Error = protocol.Error

// Sentinels for the server's standard error codes, for use with errors.Is.
// Compare codes of your own with Code.
var (
	ErrInternal          = protocol.NewError(protocol.CodeInternal)
	ErrUnauthorized      = protocol.NewError(protocol.CodeUnauthorized)
	ErrUnknownChannel    = protocol.NewError(protocol.CodeUnknownChannel)
	ErrPermissionDenied  = protocol.NewError(protocol.CodePermissionDenied)
	ErrMethodNotFound    = protocol.NewError(protocol.CodeMethodNotFound)
	ErrAlreadySubscribed = protocol.NewError(protocol.CodeAlreadySubscribed)
	ErrLimitExceeded     = protocol.NewError(protocol.CodeLimitExceeded)
	ErrBadRequest        = protocol.NewError(protocol.CodeBadRequest)
	ErrNotAvailable      = protocol.NewError(protocol.CodeNotAvailable)
	ErrTokenExpired      = protocol.NewError(protocol.CodeTokenExpired)
	ErrTooManyRequests   = protocol.NewError(protocol.CodeTooManyRequests)
	ErrNotSubscribed     = protocol.NewError(protocol.CodeNotSubscribed)
)

// Errors of the client itself.
var (
	// ErrClosed is returned after Close. A closed Client cannot be reused;
	// create a new one with New.
	ErrClosed = errors.New("herald client: the client is closed; create a new one with New")
	// ErrDisconnected is returned by commands while the client is stopped:
	// before Connect, or after a close code that forbids reconnecting (the
	// error then also wraps the *DisconnectError that says why). Call
	// Connect to start again.
	ErrDisconnected = errors.New("herald client: not connected; call Connect")
	// ErrConnectionLost is returned by a command whose connection dropped
	// before its reply arrived. The server may or may not have run it; a
	// publish can be retried safely with WithKey.
	ErrConnectionLost = errors.New("herald client: connection lost before the reply arrived; the command may or may not have run")
	// ErrInvalidData is returned when data cannot be sent as JSON.
	ErrInvalidData = errors.New("herald client: data must encode to valid JSON (json.RawMessage and []byte are sent as they are; publish raw bytes with PublishBytes)")
	// ErrInvalidChannel is returned for an empty channel name.
	ErrInvalidChannel = errors.New("herald client: channel name must not be empty")
	// ErrInvalidURL is returned by Connect for a URL it cannot dial.
	ErrInvalidURL = errors.New("herald client: the URL must be ws://, wss://, http:// or https:// with a host, e.g. ws://127.0.0.1:8080/ws")
)

// Code returns the code of the server *Error in err's chain, or 0 when there
// is none.
func Code(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// DisconnectError says why the client stopped without reconnecting: the
// close code and reason the server sent (or that the client chose, for
// problems it found itself), and, for a refused connect, the server's
// *Error.
type DisconnectError struct {
	// Code is the close code; see protocol.ShouldReconnect.
	Code int
	// Reason is a short text for people.
	Reason string
	// Err is the server's reply to connect when it refused the connection
	// (an *Error), or nil.
	Err error
}

// Error implements error.
func (e *DisconnectError) Error() string {
	s := "herald client: disconnected with code " + strconv.Itoa(e.Code)
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the server's refusal, if any.
func (e *DisconnectError) Unwrap() error { return e.Err }

// replyError is a server *Error with the command it answered. It unwraps to
// the *Error, and matches the sentinels by code under errors.Is.
type replyError struct {
	op  string
	err *Error
}

func (e *replyError) Error() string {
	return "herald client: " + e.op + ": server answered " + e.err.Message +
		" (code " + strconv.Itoa(e.err.Code) + ")"
}

func (e *replyError) Unwrap() error { return e.err }

func (e *replyError) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.err.Code
}

// temporary reports whether a subscribe refused with code is worth retrying
// on the same connection.
func temporary(code int) bool {
	return code == protocol.CodeInternal || code == protocol.CodeTooManyRequests || code == protocol.CodeBackendUnavailable
}
