package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"

	"github.com/heraldrt/herald/protocol"
)

// decodeBody reads r's body (already bounded by http.MaxBytesReader) into v.
// An empty body is an empty object. Unknown fields are ignored for forward
// compatibility; the body must be one JSON object, nested no deeper than
// protocol.MaxNestingDepth (the same limit clients' messages have).
func decodeBody(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	if b[0] != '{' {
		return badRequest("the body must be a JSON object")
	}
	if protocol.TooDeep(b, protocol.MaxNestingDepth) {
		return badRequest("the body nests deeper than %d levels", protocol.MaxNestingDepth)
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return badRequest("field %q must be %s, not %s", te.Field, jsonType(te.Type), te.Value)
		}
		return badRequest("the body is not valid JSON: %v", err)
	}
	return nil
}

// readBody reads r's body (already bounded by http.MaxBytesReader): a body
// over the bound is answered 413, a failed read 400.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge(mbe.Limit)
		}
		return nil, badRequest("could not read the request body: %v", err)
	}
	return b, nil
}

// errUnsupportedType is the 415 answer to a body sent with Content-Type ct,
// which is none of those checkContentType accepts. The usual culprit is a
// browser's fetch with a string body, which sends
// text/plain;charset=UTF-8, so the message names the header to send.
func errUnsupportedType(ct string) *apiError {
	return errorf(http.StatusUnsupportedMediaType, protocol.CodeBadRequest,
		"Content-Type %q is not supported: send the header Content-Type: application/json (or no Content-Type) with the JSON body; publish also takes Content-Type: application/octet-stream with the channel in the query", ct)
}

// jsonType names a Go type the way a JSON caller thinks of it.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "an object"
	}
}
