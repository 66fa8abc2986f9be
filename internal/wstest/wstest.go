// Package wstest is a raw protocol client for Herald's tests: it speaks
// protocol v1 frame by frame, so tests can send anything (including what a
// well-behaved SDK never would) and see exactly what the server answers.
// A Client speaks JSON, or the binary encoding (Protobuf) when dialed with
// DialEncoding: its commands are written as JSON maps either way, and what
// it reads is a protocol.ReplyFrame either way (for a JSON client, as the
// wire has it: a binary publication's data is the JSON string of its
// base64).
package wstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald/protocol"
)

// Client is one raw connection.
type Client struct {
	t      testing.TB
	Conn   *websocket.Conn
	enc    protocol.Encoding
	mu     sync.Mutex
	queue  []protocol.ReplyFrame // messages read but not yet consumed
	nextID uint64
}

// Dial connects to a Herald WebSocket URL (ws://host/ws).
func Dial(t testing.TB, url string, header ...http.Header) *Client {
	t.Helper()
	var opts websocket.DialOptions
	if len(header) > 0 {
		opts.HTTPHeader = header[0]
	}
	c, _, err := dial(t, url, &opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return &Client{t: t, Conn: c}
}

// DialEncoding connects speaking enc: offering the herald.protobuf
// subprotocol for protocol.Protobuf (and failing the test unless the
// server selects it), herald.json for protocol.JSON.
func DialEncoding(t testing.TB, url string, enc protocol.Encoding) *Client {
	t.Helper()
	c, resp, err := dial(t, url, &websocket.DialOptions{Subprotocols: []string{enc.Subprotocol()}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != enc.Subprotocol() {
		t.Fatalf("dial %s offering %s: the server selected %q", url, enc.Subprotocol(), got)
	}
	return &Client{t: t, Conn: c, enc: enc}
}

// DialSubprotocols connects offering the given subprotocols, sends
// connect in the encoding the server's selection implies (the binary one
// for herald.protobuf, JSON for anything else), fails the test unless it
// succeeds, and returns the subprotocol the server selected ("" for
// none).
func DialSubprotocols(t testing.TB, url string, offer ...string) string {
	t.Helper()
	c, resp, err := dial(t, url, &websocket.DialOptions{Subprotocols: offer})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	selected := resp.Header.Get("Sec-WebSocket-Protocol")
	cl := &Client{t: t, Conn: c, enc: protocol.EncodingOf(selected)}
	cl.Connect()
	return selected
}

// Encoding returns the encoding the client speaks.
func (c *Client) Encoding() protocol.Encoding { return c.enc }

// DialCompressed opens a WebSocket connection to url that offers
// permessage-deflate (no context takeover) and compresses every message it
// sends. It returns the connection and the handshake response, whose
// Sec-WebSocket-Extensions says what the server accepted.
func DialCompressed(t testing.TB, url string) (*websocket.Conn, *http.Response) {
	t.Helper()
	c, resp, err := dial(t, url, &websocket.DialOptions{
		CompressionMode:      websocket.CompressionNoContextTakeover,
		CompressionThreshold: 1,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c, resp
}

// dial opens a WebSocket connection with opts within 5 seconds, lets it
// read messages of up to 64 MiB, and closes it when the test ends.
func dial(t testing.TB, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, resp, nil
}

// WSURL turns an http:// test server URL into the ws:// URL of path.
func WSURL(httpURL, path string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + path
}

// SendRaw writes one text frame as is.
func (c *Client) SendRaw(frame string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Conn.Write(ctx, websocket.MessageText, []byte(frame))
}

// SendBinary writes one binary frame as is.
func (c *Client) SendBinary(frame []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Conn.Write(ctx, websocket.MessageBinary, frame)
}

// Command sends one command with the next id (unless cmd has one) and
// returns the id. The binary encoding sends it as the Command message
// that the map's JSON decodes to ("binary":true with base64 data becomes
// raw bytes).
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
	if err := c.send(b); err != nil {
		c.t.Fatalf("send %s: %v", b, err)
	}
	return id
}

// send writes one JSON command in the client's encoding.
func (c *Client) send(cmdJSON []byte) error {
	if c.enc != protocol.Protobuf {
		return c.SendRaw(string(cmdJSON))
	}
	var cmd protocol.Command
	if err := protocol.DecodeCommand(cmdJSON, &cmd); err != nil {
		return fmt.Errorf("a command the binary encoding cannot carry: %w", err)
	}
	return c.SendBinary(protocol.AppendCommandProtobuf(nil, &cmd))
}

// Call sends a command and waits for its reply, keeping pushes that arrive
// meanwhile for Next.
func (c *Client) Call(cmd map[string]any) protocol.ReplyFrame {
	c.t.Helper()
	id := c.Command(cmd)
	return c.WaitReply(id)
}

// Connect sends connect and fails the test unless it succeeds.
func (c *Client) Connect(fields ...map[string]any) protocol.ConnectResult {
	c.t.Helper()
	return ConnectVia(c.t, c.Call, fields...)
}

// ConnectVia sends connect through call, with the fields of fields[0]
// added, and fails the test unless it succeeds: the Connect of every
// raw test client, whatever its transport.
func ConnectVia(t testing.TB, call func(map[string]any) protocol.ReplyFrame, fields ...map[string]any) protocol.ConnectResult {
	t.Helper()
	cmd := map[string]any{"op": "connect"}
	if len(fields) > 0 {
		for k, v := range fields[0] {
			cmd[k] = v
		}
	}
	r := call(cmd)
	if r.Error != nil {
		t.Fatalf("connect: %v", r.Error)
	}
	var res protocol.ConnectResult
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatalf("connect result %s: %v", r.Result, err)
	}
	return res
}

// WaitReply reads until the reply to id arrives.
func (c *Client) WaitReply(id uint64) protocol.ReplyFrame {
	c.t.Helper()
	for i := 0; ; i++ {
		c.mu.Lock()
		for j, m := range c.queue {
			if m.ID == id {
				c.queue = append(c.queue[:j], c.queue[j+1:]...)
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		if err := c.readFrame(5 * time.Second); err != nil {
			c.t.Fatalf("waiting for reply %d: %v", id, err)
		}
	}
}

// Next returns the next unconsumed message, reading if needed.
func (c *Client) Next(timeout time.Duration) (protocol.ReplyFrame, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return m, nil
		}
		c.mu.Unlock()
		if err := c.readFrame(timeout); err != nil {
			return protocol.ReplyFrame{}, err
		}
	}
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
			_ = c.send([]byte(`{"op":"pong"}`))
			continue
		}
		if m.ID == 0 && m.Op == op {
			return m, nil
		}
	}
}

func (c *Client) readFrame(timeout time.Duration) error {
	if timeout <= 0 {
		return context.DeadlineExceeded
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ, data, err := c.Conn.Read(ctx)
	if err != nil {
		return err
	}
	if (typ == websocket.MessageBinary) != c.enc.Binary() {
		return fmt.Errorf("a %v frame on a %s connection", typ, c.enc)
	}
	return c.enc.SplitMessages(data, func(msg []byte) error {
		var m protocol.ReplyFrame
		if c.enc == protocol.Protobuf {
			if err := protocol.DecodeReplyFrameProtobuf(msg, &m); err != nil {
				return fmt.Errorf("server sent invalid Protobuf % x: %w", msg, err)
			}
		} else if err := json.Unmarshal(msg, &m); err != nil {
			return fmt.Errorf("server sent invalid JSON %q: %w", msg, err)
		}
		c.mu.Lock()
		c.queue = append(c.queue, m)
		c.mu.Unlock()
		return nil
	})
}

// ExpectClose reads until the connection closes and returns the close code
// (-1 if it closed without a close frame). Messages read meanwhile are kept.
func (c *Client) ExpectClose(timeout time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := c.readFrame(time.Until(deadline))
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return int(ce.Code)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			c.t.Fatalf("connection still open after %v", timeout)
		}
		return -1
	}
}

// Messages returns the messages read but not consumed.
func (c *Client) Messages() []protocol.ReplyFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]protocol.ReplyFrame(nil), c.queue...)
}

// TryDial opens a WebSocket connection from localIP (any 127.x address on
// Linux) without failing the test, so that refusals can be checked: it
// returns the HTTP status of a refused handshake. A header, when given, is
// sent with the handshake (X-Forwarded-For, as a proxy would).
func TryDial(t testing.TB, url, localIP string, header ...http.Header) (*Client, int, error) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}, Timeout: 5 * time.Second}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	opts := websocket.DialOptions{HTTPClient: hc}
	if len(header) > 0 {
		opts.HTTPHeader = header[0]
	}
	c, resp, err := dial(t, url, &opts)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	return &Client{t: t, Conn: c}, http.StatusSwitchingProtocols, nil
}
