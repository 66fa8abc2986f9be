// Package streamtest is a raw protocol client of Herald's fallback
// transports for tests: it opens an HTTP stream or a Server-Sent Events
// stream and POSTs commands, message by message, so that tests see exactly
// what the server sends.
package streamtest

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
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// The transports a Client can open.
const (
	Stream = "stream" // HTTP-streaming, GET base/stream
	SSE    = "sse"    // Server-Sent Events, GET base/sse
)

// Client is one raw stream and the POSTs that go with it.
type Client struct {
	t       testing.TB
	CmdURL  string // where commands go (base/cmd unless changed)
	Session string
	Secret  string

	body   io.ReadCloser
	msgs   chan protocol.ReplyFrame
	ended  chan struct{}
	mu     sync.Mutex
	queue  []protocol.ReplyFrame
	seq    uint64
	nextID uint64
}

// Open opens a stream of transport kind at base (http://host, the stream
// at base/stream or base/sse) and fails the test when it is refused.
func Open(t testing.TB, base, kind string, header ...http.Header) *Client {
	t.Helper()
	c, status, err := TryOpen(t, base, kind, header...)
	if err != nil {
		t.Fatalf("open %s stream at %s: status %d: %v", kind, base, status, err)
	}
	return c
}

// TryOpen opens a stream without failing the test: it returns the HTTP
// status of a refusal.
func TryOpen(t testing.TB, base, kind string, header ...http.Header) (*Client, int, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/"+kind, nil)
	if err != nil {
		return nil, 0, err
	}
	if len(header) > 0 {
		req.Header = header[0].Clone()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, resp.StatusCode, fmt.Errorf("%s", strings.TrimSpace(string(b)))
	}
	c := &Client{t: t, CmdURL: base + "/cmd", body: resp.Body,
		msgs: make(chan protocol.ReplyFrame, 1024), ended: make(chan struct{})}
	hello := make(chan []byte, 1)
	go c.read(bufio.NewReaderSize(resp.Body, 64<<10), kind == SSE, hello)
	select {
	case h, ok := <-hello:
		var v struct{ Session, Secret string }
		if !ok || json.Unmarshal(h, &v) != nil || v.Session == "" {
			resp.Body.Close()
			return nil, 200, fmt.Errorf("no hello, got %q", h)
		}
		c.Session, c.Secret = v.Session, v.Secret
	case <-time.After(5 * time.Second):
		resp.Body.Close()
		return nil, 200, errors.New("no hello within 5 s")
	}
	t.Cleanup(c.Cut)
	return c, 200, nil
}

// read decodes the stream: the hello first, then messages.
func (c *Client) read(r *bufio.Reader, sse bool, hello chan<- []byte) {
	defer close(c.ended)
	first := true
	emit := func(line []byte) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			return
		}
		if first {
			first = false
			hello <- append([]byte(nil), line...)
			close(hello)
			return
		}
		var m protocol.ReplyFrame
		if err := json.Unmarshal(line, &m); err != nil {
			c.t.Errorf("server sent invalid JSON %q: %v", line, err)
			return
		}
		c.msgs <- m
	}
	for {
		line, err := r.ReadBytes('\n')
		if sse {
			// Data lines carry one message each; events and comments
			// separate them.
			if rest, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				emit(rest)
			}
		} else {
			emit(line)
		}
		if err != nil {
			if first {
				close(hello)
			}
			return
		}
	}
}

// SendRaw POSTs a frame of newline-separated commands with the next seq and
// returns the HTTP status.
func (c *Client) SendRaw(frame string) int {
	c.mu.Lock()
	c.seq++
	seq := c.seq
	c.mu.Unlock()
	return c.Post(c.Session, c.Secret, seq, frame)
}

// Post POSTs a frame with any session, secret and seq, and returns the
// HTTP status (0 when the request failed).
func (c *Client) Post(session, secret string, seq uint64, frame string) int {
	head, _ := json.Marshal(map[string]any{"session": session, "secret": secret, "seq": seq})
	resp, err := http.Post(c.CmdURL, "text/plain", strings.NewReader(string(head)+"\n"+frame))
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Command sends one command with the next id (unless cmd has one) and
// returns the id.
func (c *Client) Command(cmd map[string]any) uint64 {
	c.t.Helper()
	c.mu.Lock()
	if _, ok := cmd["id"]; !ok {
		c.nextID++
		cmd["id"] = c.nextID
	}
	id, _ := cmd["id"].(uint64)
	c.mu.Unlock()
	b, _ := json.Marshal(cmd)
	if st := c.SendRaw(string(b)); st/100 != 2 {
		c.t.Fatalf("POST %s: status %d", b, st)
	}
	return id
}

// Call sends a command and waits for its reply, keeping pushes for Next.
func (c *Client) Call(cmd map[string]any) protocol.ReplyFrame {
	c.t.Helper()
	id := c.Command(cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		for j, m := range c.queue {
			if m.ID == id {
				c.queue = append(c.queue[:j], c.queue[j+1:]...)
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		m, err := c.recv(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for reply %d: %v", id, err)
		}
		c.mu.Lock()
		c.queue = append(c.queue, m)
		c.mu.Unlock()
	}
}

// Connect sends connect and fails the test unless it succeeds.
func (c *Client) Connect(fields ...map[string]any) protocol.ConnectResult {
	c.t.Helper()
	return wstest.ConnectVia(c.t, c.Call, fields...)
}

// ErrEnded is Next's error once the stream has ended.
var ErrEnded = errors.New("streamtest: the stream ended")

func (c *Client) recv(timeout time.Duration) (protocol.ReplyFrame, error) {
	if timeout <= 0 {
		return protocol.ReplyFrame{}, context.DeadlineExceeded
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-c.msgs:
		return m, nil
	case <-c.ended:
		select {
		case m := <-c.msgs:
			return m, nil
		default:
			return protocol.ReplyFrame{}, ErrEnded
		}
	case <-t.C:
		return protocol.ReplyFrame{}, context.DeadlineExceeded
	}
}

// Next returns the next unconsumed message.
func (c *Client) Next(timeout time.Duration) (protocol.ReplyFrame, error) {
	c.mu.Lock()
	if len(c.queue) > 0 {
		m := c.queue[0]
		c.queue = c.queue[1:]
		c.mu.Unlock()
		return m, nil
	}
	c.mu.Unlock()
	return c.recv(timeout)
}

// NextPush returns the next push with op, skipping others (pings are
// answered).
func (c *Client) NextPush(op string, timeout time.Duration) (protocol.ReplyFrame, error) {
	deadline := time.Now().Add(timeout)
	for {
		m, err := c.Next(time.Until(deadline))
		if err != nil {
			return m, err
		}
		if m.Op == "ping" && op != "ping" {
			c.SendRaw(`{"op":"pong"}`)
			continue
		}
		if m.ID == 0 && m.Op == op {
			return m, nil
		}
	}
}

// ExpectEnd reads until the stream ends and returns the code of the
// disconnect push before the end (-1 without one).
func (c *Client) ExpectEnd(timeout time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	code := -1
	for {
		m, err := c.Next(time.Until(deadline))
		switch {
		case errors.Is(err, ErrEnded):
			return code
		case err != nil:
			c.t.Fatalf("stream still open after %v", timeout)
		case m.Op == protocol.OpDisconnect:
			code = m.Code
		}
	}
}

// Cut closes the stream from the client's side, without a word.
func (c *Client) Cut() { c.body.Close() }

// Ended is closed once the stream has ended.
func (c *Client) Ended() <-chan struct{} { return c.ended }
