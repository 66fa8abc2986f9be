package api

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
)

// Binary publications through the API (docs/protocol.md, section 11): a
// publish whose body is the publication's bytes, sent as
// application/octet-stream with the channel (and the key) in the query
// string; or, in a JSON body, data as a base64 string with "binary":true
// (publish and broadcast).

// octetStream is the Content-Type of a publish whose body is the data.
const octetStream = "application/octet-stream"

// isOctetStream reports whether r's body is raw bytes.
func isOctetStream(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == octetStream
}

// publishOctetStream publishes the body of r, raw bytes, to the channel in
// its query string.
func (h *Handler) publishOctetStream(r *http.Request) (any, error) {
	q := r.URL.Query()
	channel := q.Get("channel")
	if channel == "" {
		return nil, badRequest(`the query parameter "channel" is required with Content-Type: application/octet-stream (POST /api/publish?channel=NAME)`)
	}
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	res, err := h.node.PublishBinary(r.Context(), channel, data, publishOptions(q.Get("key"))...)
	if err != nil {
		return nil, err
	}
	return publishResult{Offset: res.Offset, Epoch: res.Epoch}, nil
}

// decodeBinaryData returns the bytes of a JSON body's data that says
// "binary":true: a base64 string (standard alphabet, padded).
func decodeBinaryData(data json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, badRequest(`field "data" must be a base64 string when "binary" is true`)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, badRequest(`field "data" is not valid base64 (standard alphabet, padded): %v`, err)
	}
	return b, nil
}
