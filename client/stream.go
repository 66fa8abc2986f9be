package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// streamWire is a fallback transport (docs/protocol.md, section 2.6): the
// server's messages down one streamed GET response (HTTP-streaming or
// Server-Sent Events), the client's commands up as POSTs that carry the
// stream's session id, its secret and a sequence number.
type streamWire struct {
	c       *Client
	t       Transport
	cmdURL  string
	session string
	secret  string
	seq     uint64 // the last POST's; used by the conn's writer only
	body    io.ReadCloser
	cancel  context.CancelFunc // ends the GET
	frames  chan []byte
	err     error // why the stream ended, set before frames is closed
}

var (
	// errStreamEnded is the read error once the server ended the stream.
	errStreamEnded = errors.New("the server ended the stream")
	// errStreamTooBig: a message longer than Options.MaxMessageSize.
	errStreamTooBig = errors.New("a message from the server exceeded Options.MaxMessageSize")
)

// openStream opens a stream of kind t and reads its hello.
func (c *Client) openStream(ctx context.Context, t Transport) (*streamWire, error) {
	base := c.fallbackBase()
	path := "/stream"
	if t == TransportSSE {
		path = "/sse"
	}
	// The stream outlives ctx (which bounds only the opening).
	sctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, base+path, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, v := range c.opts.Header {
		req.Header[k] = v
	}
	if t == TransportSSE {
		req.Header.Set("Accept", "text/event-stream")
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("herald client: open %s: %w", base+path, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("herald client: open %s: %s: %s", base+path, resp.Status, bytes.TrimSpace(b))
	}
	w := &streamWire{c: c, t: t, cmdURL: base + "/cmd", body: resp.Body, cancel: cancel, frames: make(chan []byte, 16)}
	hello := make(chan []byte, 1)
	go w.readLoop(bufio.NewReaderSize(resp.Body, 64<<10), hello)
	h, ok := <-hello
	if !stop() || !ok {
		w.closeNow()
		return nil, fmt.Errorf("herald client: open %s: no hello from the server: %w", base+path, errors.Join(ctx.Err(), w.err))
	}
	var v struct{ Session, Secret string }
	if err := json.Unmarshal(h, &v); err != nil || v.Session == "" {
		w.closeNow()
		return nil, fmt.Errorf("herald client: open %s: not a Herald stream (first record %.80q)", base+path, h)
	}
	w.session, w.secret = v.Session, v.Secret
	return w, nil
}

// readLoop decodes the stream into frames: the first record is the hello.
func (w *streamWire) readLoop(r *bufio.Reader, hello chan<- []byte) {
	first := true
	emit := func(frame []byte) {
		if len(bytes.TrimSpace(frame)) == 0 {
			return
		}
		if first {
			first = false
			hello <- frame
			close(hello)
			return
		}
		w.frames <- frame
	}
	var event []byte // SSE: the data lines of the event being read
	var name []byte  // SSE: its event type ("" is "message")
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole, within MaxMessageSize.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
				if max := w.c.opts.MaxMessageSize; max > 0 && int64(len(long)) > max {
					err = errStreamTooBig
				}
			}
			line = long
		}
		if err != nil {
			if err == io.EOF {
				err = errStreamEnded
			}
			w.err = err
			if first {
				close(hello)
			}
			close(w.frames)
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		if w.t != TransportSSE {
			emit(append([]byte(nil), line...))
			continue
		}
		switch {
		case len(line) == 0: // end of an event
			// After the hello (event: session), only "message" events carry
			// protocol messages, as an EventSource's onmessage sees them;
			// events of other types are not for this client.
			if first || len(name) == 0 || string(name) == "message" {
				emit(event)
			}
			event, name = nil, nil
		case bytes.HasPrefix(line, []byte("event:")):
			name = append(name[:0], bytes.TrimPrefix(line[6:], []byte(" "))...)
		case bytes.HasPrefix(line, []byte("data:")):
			data := bytes.TrimPrefix(line[5:], []byte(" "))
			if event != nil {
				event = append(event, '\n')
			}
			event = append(event, data...)
		}
	}
}

func (w *streamWire) kind() Transport { return w.t }

// encoding is JSON: the fallback transports carry no other (binary
// publications arrive in base64, docs/protocol.md section 2.7).
func (w *streamWire) encoding() protocol.Encoding { return protocol.JSON }

func (w *streamWire) read(ctx context.Context) ([]byte, error) {
	select {
	case f, ok := <-w.frames:
		if !ok {
			return nil, w.err
		}
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// write POSTs one frame of commands. A POST that fails on the way (a
// network error, 429, 5xx) is sent again with the same seq, which the
// server runs at most once, until ctx ends.
func (w *streamWire) write(ctx context.Context, frame []byte) error {
	w.seq++
	head, _ := json.Marshal(map[string]any{"session": w.session, "secret": w.secret, "seq": w.seq})
	body := append(append(head, '\n'), frame...)
	for attempt := 0; ; attempt++ {
		status, err := w.post(ctx, body)
		switch {
		case err == nil && status/100 == 2:
			return nil
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			return fmt.Errorf("POST %s: status %d", w.cmdURL, status)
		case ctx.Err() != nil:
			return fmt.Errorf("POST %s: %w", w.cmdURL, ctx.Err())
		}
		select {
		case <-time.After(min(time.Duration(attempt+1)*50*time.Millisecond, time.Second)):
		case <-ctx.Done():
			return fmt.Errorf("POST %s: %w", w.cmdURL, ctx.Err())
		}
	}
}

func (w *streamWire) post(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cmdURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	for k, v := range w.c.opts.Header {
		if !strings.EqualFold(k, "Content-Type") {
			req.Header[k] = v
		}
	}
	resp, err := w.c.postClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// close ends the stream: the server sees its client leave. A stream has no
// close frame to carry code.
func (w *streamWire) close(int) error {
	w.closeNow()
	return nil
}

func (w *streamWire) closeNow() {
	w.cancel()
	_ = w.body.Close()
	// Let the reader see the end even when nobody reads frames.
	go func() {
		for range w.frames {
		}
	}()
}
