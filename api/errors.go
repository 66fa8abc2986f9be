package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

// apiError is a failure the caller sees: an HTTP status, a protocol error
// code and a message. cause, when set, is logged and never sent.
type apiError struct {
	status int
	code   int
	msg    string
	header map[string]string
	cause  error
}

func (e *apiError) Error() string { return e.msg }

// errorf returns an apiError with a formatted message.
func errorf(status, code int, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// badRequest is the usual 400 with code 107.
func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, protocol.CodeBadRequest, format, args...)
}

func errTooLarge(limit int64) *apiError {
	return errorf(http.StatusRequestEntityTooLarge, protocol.CodeLimitExceeded,
		"request body is larger than %d bytes", limit)
}

// classify turns any error into what the caller sees.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	switch {
	case errors.Is(err, herald.ErrInvalidChannel),
		errors.Is(err, herald.ErrInvalidData),
		errors.Is(err, herald.ErrInvalidTarget):
		return badRequest("%s", strings.TrimPrefix(err.Error(), "herald: "))
	case errors.Is(err, path.ErrBadPattern):
		return badRequest(`pattern is not valid: use path.Match syntax, e.g. "chat:*"`)
	case errors.Is(err, broker.ErrUnavailable):
		return &apiError{status: http.StatusServiceUnavailable, code: protocol.CodeInternal,
			msg: herald.ErrBrokerUnavailable.Message, cause: err}
	case errors.Is(err, herald.ErrNodeClosed):
		return &apiError{status: http.StatusServiceUnavailable, code: protocol.CodeInternal,
			msg: "the node is shutting down; retry on another node", cause: err}
	}
	var he *herald.Error
	if errors.As(err, &he) {
		return &apiError{status: statusOf(he.Code), code: he.Code, msg: he.Message}
	}
	return &apiError{status: http.StatusInternalServerError, code: protocol.CodeInternal,
		msg: protocol.ErrorMessage(protocol.CodeInternal), cause: err}
}

// statusOf is the HTTP status of a protocol error code a Node method
// returned; codes without a closer match are 400 (ErrHistoryDisabled, 108,
// among them: the request cannot be served by this server's configuration).
func statusOf(code int) int {
	switch code {
	case protocol.CodeUnauthorized:
		return http.StatusUnauthorized
	case protocol.CodePermissionDenied:
		return http.StatusForbidden
	case protocol.CodeLimitExceeded:
		// From Publish and Broadcast: the data is over the node's
		// MaxPublicationSize.
		return http.StatusRequestEntityTooLarge
	case protocol.CodeTooManyRequests:
		return http.StatusTooManyRequests
	default:
		return http.StatusBadRequest
	}
}

// toProtocol is the `error` object of an apiError, for a broadcast result.
// It logs the cause of internal errors.
func (h *Handler) toProtocol(r *http.Request, err error) *herald.Error {
	ae := classify(err)
	h.logCause(r, ae)
	return &herald.Error{Code: ae.code, Message: ae.msg}
}

// fail writes err as a JSON error answer and returns its status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) int {
	ae := classify(err)
	h.logCause(r, ae)
	for k, v := range ae.header {
		w.Header().Set(k, v)
	}
	return writeJSON(w, ae.status, errorBody{Error: herald.Error{Code: ae.code, Message: ae.msg}})
}

func (h *Handler) logCause(r *http.Request, ae *apiError) {
	if ae.cause != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "api call failed",
			slog.String("path", r.URL.Path), slog.Int("status", ae.status), slog.Any("error", ae.cause))
	}
}

// errorBody is the shape of every error answer.
type errorBody struct {
	Error herald.Error `json:"error"`
}

// writeJSON writes v as the JSON body of an answer with status and returns
// status.
func writeJSON(w http.ResponseWriter, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":100,"message":"internal server error"}}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return status
}
