package httpstream

import (
	"bytes"
	"net/http"
)

// format is how a stream's response carries messages.
type format uint8

const (
	formatStream format = iota // HTTP-streaming: one JSON message per line
	formatSSE                  // Server-Sent Events: one event per write
)

// String names the format as the metrics and the SDKs do.
func (f format) String() string {
	if f == formatSSE {
		return "sse"
	}
	return "http-stream"
}

// setHeaders writes the response headers of a stream in format f.
func (f format) setHeaders(h http.Header) {
	if f == formatSSE {
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
	}
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each write through at once
	h.Set("X-Content-Type-Options", "nosniff")
}

// hello encodes the stream's first record: its session id and secret.
func (f format) hello(id, secret string) []byte {
	msg := []byte(`{"session":"` + id + `","secret":"` + secret + `"}`)
	if f == formatSSE {
		// retry tells an EventSource left to itself to wait before it
		// reconnects; Herald's SDKs close it and reconnect on their own.
		return append(append([]byte("retry: 3000\nevent: session\ndata: "), msg...), "\n\n"...)
	}
	return append(msg, '\n')
}

// appendFrame appends one frame of newline-separated messages to dst.
// HTTP-streaming writes it as it is, ended by a newline; SSE writes one
// event whose data lines are the messages, so an EventSource hands over the
// same newline-separated text.
func (f format) appendFrame(dst, frame []byte) []byte {
	if f == formatStream {
		return append(append(dst, frame...), '\n')
	}
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			continue
		}
		dst = append(append(append(dst, "data: "...), line...), '\n')
	}
	return append(dst, '\n')
}
