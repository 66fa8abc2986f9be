package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/coder/websocket"
)

// Transport names how the client reaches the server.
type Transport string

// The transports, in the order TransportAuto tries them.
const (
	// TransportAuto tries a WebSocket first, then HTTP-streaming, then
	// Server-Sent Events, on every connection attempt, and keeps the
	// first that opens (the zero value).
	TransportAuto Transport = ""
	// TransportWebSocket: protocol v1 over a WebSocket (docs/protocol.md,
	// section 2).
	TransportWebSocket Transport = "websocket"
	// TransportHTTPStream: messages from the server down a streamed HTTP
	// response, commands up as POSTs (section 2.6).
	TransportHTTPStream Transport = "http-stream"
	// TransportSSE: as TransportHTTPStream, with the messages as
	// Server-Sent Events.
	TransportSSE Transport = "sse"
)

// wire is one open transport under a conn: it reads the server's frames
// (newline-separated messages) and writes the client's.
type wire interface {
	// read returns the next frame; ctx bounds the wait.
	read(ctx context.Context) ([]byte, error)
	// write sends one frame of commands.
	write(ctx context.Context, frame []byte) error
	// close ends the transport politely, with code when it can say one.
	close(code int) error
	// closeNow drops it.
	closeNow()
	// kind names the transport.
	kind() Transport
}

// transports returns the transports one attempt tries, in order.
func (c *Client) transports() []Transport {
	if c.opts.Transport != TransportAuto {
		return []Transport{c.opts.Transport}
	}
	return []Transport{TransportWebSocket, TransportHTTPStream, TransportSSE}
}

// openWire opens the first transport that works, each attempt bounded by
// DialTimeout. It returns every failure when none does.
func (c *Client) openWire(ctx context.Context) (wire, error) {
	var errs []error
	for _, t := range c.transports() {
		actx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
		w, err := c.openTransport(actx, t)
		cancel()
		if err == nil {
			return w, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		c.log.Debug("transport failed", "transport", t, "error", err)
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func (c *Client) openTransport(ctx context.Context, t Transport) (wire, error) {
	switch t {
	case TransportWebSocket:
		ws, _, err := websocket.Dial(ctx, c.url, &websocket.DialOptions{HTTPClient: c.httpClient, HTTPHeader: c.opts.Header})
		if err != nil {
			return nil, fmt.Errorf("herald client: dial %s: %w", c.url, err)
		}
		ws.SetReadLimit(c.opts.MaxMessageSize)
		return &wsWire{c: c, ws: ws}, nil
	case TransportHTTPStream, TransportSSE:
		return c.openStream(ctx, t)
	default:
		return nil, fmt.Errorf("herald client: unknown Options.Transport %q", t)
	}
}

// fallbackBase returns the URL under which /stream, /sse and /cmd are:
// Options.FallbackURL, or the client's URL with an http(s) scheme and its
// last path element removed (ws://host/ws gives http://host).
func (c *Client) fallbackBase() string {
	if c.opts.FallbackURL != "" {
		return strings.TrimSuffix(c.opts.FallbackURL, "/")
	}
	u, err := url.Parse(c.url)
	if err != nil {
		return c.url
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	if i := strings.LastIndexByte(u.Path, '/'); i >= 0 {
		u.Path = u.Path[:i]
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimSuffix(u.String(), "/")
}

// wsWire is a WebSocket.
type wsWire struct {
	c  *Client
	ws *websocket.Conn
}

func (w *wsWire) kind() Transport { return TransportWebSocket }

func (w *wsWire) read(ctx context.Context) ([]byte, error) {
	for {
		typ, frame, err := w.ws.Read(ctx)
		if err != nil || typ == websocket.MessageText {
			return frame, err
		}
		w.c.report(errors.New("herald client: ignored a binary frame from the server (protocol v1 uses text frames)"))
	}
}

func (w *wsWire) write(ctx context.Context, frame []byte) error {
	return w.ws.Write(ctx, websocket.MessageText, frame)
}

func (w *wsWire) close(code int) error { return w.ws.Close(websocket.StatusCode(code), "") }

func (w *wsWire) closeNow() { _ = w.ws.CloseNow() }
