package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald/protocol"
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
// (messages of its encoding, several to a frame) and writes the client's.
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
	// encoding is the encoding of its frames, both ways.
	encoding() protocol.Encoding
}

// transports returns the transports one attempt tries, in order: only the
// WebSocket when the binary encoding is required, for the fallbacks speak
// JSON.
func (c *Client) transports() []Transport {
	if c.opts.Transport != TransportAuto {
		return []Transport{c.opts.Transport}
	}
	if c.opts.Encoding == EncodingProtobuf {
		return []Transport{TransportWebSocket}
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
		return c.dialWebSocket(ctx)
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

// dialWebSocket opens a WebSocket, offering the subprotocols of
// Options.Encoding, and speaks the encoding the server chose: the binary
// one when it answered herald.protobuf, JSON when it answered herald.json
// or no subprotocol at all (docs/protocol.md, section 2.1).
func (c *Client) dialWebSocket(ctx context.Context) (*wsWire, error) {
	ws, _, err := websocket.Dial(ctx, c.url, &websocket.DialOptions{
		HTTPClient: c.httpClient, HTTPHeader: c.opts.Header, Subprotocols: c.opts.Encoding.subprotocols(),
	})
	if err != nil {
		return nil, fmt.Errorf("herald client: dial %s: %w", c.url, err)
	}
	enc := protocol.EncodingOf(ws.Subprotocol())
	if c.opts.Encoding == EncodingProtobuf && enc != protocol.Protobuf {
		// Nothing was said on it: drop it rather than wait for an answer
		// to a close frame.
		_ = ws.CloseNow()
		return nil, fmt.Errorf("herald client: dial %s: %w", c.url, errNoProtobuf)
	}
	ws.SetReadLimit(c.opts.MaxMessageSize)
	typ := websocket.MessageText
	if enc.Binary() {
		typ = websocket.MessageBinary
	}
	return &wsWire{c: c, ws: ws, enc: enc, typ: typ}, nil
}

// errNoProtobuf fails a WebSocket whose server did not accept the binary
// encoding that Options.Encoding requires.
var errNoProtobuf = errors.New("the server did not accept the binary encoding (subprotocol " +
	protocol.SubprotocolProtobuf + "); it may predate it: leave Options.Encoding at EncodingAuto to speak JSON with it")

// wsWire is a WebSocket: its frames are all text (JSON) or all binary
// (Protobuf), as the handshake chose.
type wsWire struct {
	c   *Client
	ws  *websocket.Conn
	enc protocol.Encoding
	typ websocket.MessageType // the frames of enc
}

func (w *wsWire) kind() Transport { return TransportWebSocket }

func (w *wsWire) encoding() protocol.Encoding { return w.enc }

func (w *wsWire) read(ctx context.Context) ([]byte, error) {
	for {
		typ, frame, err := w.ws.Read(ctx)
		if err != nil || typ == w.typ {
			return frame, err
		}
		w.c.report(fmt.Errorf("herald client: ignored a %v frame from the server (this connection speaks %v in %v frames)", typ, w.enc, w.typ))
	}
}

func (w *wsWire) write(ctx context.Context, frame []byte) error {
	return w.ws.Write(ctx, w.typ, frame)
}

func (w *wsWire) close(code int) error { return w.ws.Close(websocket.StatusCode(code), "") }

func (w *wsWire) closeNow() { _ = w.ws.CloseNow() }
