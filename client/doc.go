// Package client is the Go SDK for Herald servers: it speaks protocol v1
// over a WebSocket (github.com/coder/websocket) and keeps itself connected.
// Where no WebSocket gets through, it falls back to HTTP-streaming, then to
// Server-Sent Events, with commands POSTed (Options.Transport forces one;
// ConnectedEvent.Transport says which one a connection uses). On a
// WebSocket it speaks the binary encoding (Protobuf) when the server
// accepts it, JSON otherwise (Options.Encoding chooses;
// ConnectedEvent.Encoding says which).
//
// # A tour
//
// Create a Client for the server's endpoint and connect:
//
//	c := client.New("ws://127.0.0.1:8080/ws", client.Options{
//		TokenFunc: func(ctx context.Context) (string, error) { return myToken(ctx) },
//	})
//	defer c.Close()
//	if err := c.Connect(ctx); err != nil {
//		return err
//	}
//
// Subscribe with handlers. Handlers run one at a time, in order, on a
// goroutine of the client's; they may call Client methods:
//
//	sub, err := c.Subscribe(ctx, "chat:lobby", client.SubscriptionHandlers{
//		OnPublication: func(p client.Publication) { fmt.Printf("%s\n", p.Data) },
//		OnSubscribed: func(e client.SubscribedEvent) {
//			if e.Resubscribed && !e.Recovered {
//				reloadState() // publications may have been missed
//			}
//		},
//	})
//
// Publish, call RPC methods with context deadlines, and send messages to the
// server's OnMessage handler:
//
//	res, err := c.Publish(ctx, "chat:lobby", map[string]string{"text": "hi"}, client.WithKey("msg-81"))
//	out, err := c.RPC(ctx, "getProfile", map[string]int{"id": 42})
//	err = c.Send(ctx, map[string]string{"typing": "chat:lobby"})
//
// Publish raw bytes (an image, a message of your own binary format) with
// PublishBytes; Publish takes JSON values. A subscriber tells the two
// apart by Publication.Binary, in pushes, recovered publications and
// history alike:
//
//	res, err := c.PublishBytes(ctx, "photos", jpeg)
//	OnPublication: func(p client.Publication) {
//		if p.Binary {
//			show(p.Data) // the published bytes
//		} else {
//			json.Unmarshal(p.Data, &caption)
//		}
//	},
//
// The bytes are the same whatever the encoding: the binary encoding
// carries them as they are, JSON (the fallback transports, or
// Options.Encoding set to EncodingJSON) in base64, which the client
// decodes (docs/protocol.md, section 2.7).
//
// Read a channel's history and presence, and subscribe to channels that
// need a channel token (private channels, namespaces with access: token)
// with a token, or a function that fetches one when needed and again
// before it expires:
//
//	res, err := c.History(ctx, "chat:lobby", client.HistoryOptions{Limit: 50, Reverse: true})
//	who, err := c.Presence(ctx, "chat:lobby") // who.Clients: client id -> user, info
//	sub, err := c.Subscribe(ctx, "vip:lounge", handlers, client.WithChannelTokenFunc(
//		func(ctx context.Context, channel string) (string, error) { return myChannelToken(ctx, channel) }))
//
// # Errors
//
// A command the server refuses returns an error with the server's *Error
// (a code and a message) in its chain. Match standard codes with the
// sentinels, and any code with errors.As or Code:
//
//	if errors.Is(err, client.ErrPermissionDenied) { ... }
//	var herr *client.Error
//	if errors.As(err, &herr) && herr.Code == 1001 { ... }
//
// A command whose connection drops before its reply returns an error
// wrapping ErrConnectionLost: it may or may not have run on the server.
//
// # Reconnecting
//
// When the connection ends with a close code that allows it (see
// protocol.ShouldReconnect: 3000-3499 and abnormal closures), the client
// reconnects with exponential backoff and full jitter, calls TokenFunc again,
// and renews every subscription. For channels with history it asks the
// server to recover what it missed from the last offset and epoch it saw;
// SubscribedEvent.Recovered says whether that worked. Publications are
// delivered without duplicates: one whose offset is not above the last seen
// on its channel is dropped.
//
// The server pings every connection (the interval comes in the connect
// result) and the client answers. When nothing at all arrives for the ping
// interval plus Options.PingGrace, the client presumes the server dead,
// drops the connection and reconnects.
//
// # Token expiry
//
// A server that checks tokens may end a connection when its token expires
// (ConnectedEvent.Expires says when). With Options.TokenFunc the client
// refreshes on its own: when the server sends its `refresh` push (or,
// failing that, shortly before the expiry) it calls TokenFunc and sends the
// new token in a refresh command, and the connection, its subscriptions and
// commands in flight carry on. Without TokenFunc, or when every refresh
// fails, the server closes the connection with 3005 at the expiry and the
// client reconnects (with a token from TokenFunc, when set).
//
// A close code that forbids reconnecting (3500-4999, or a refused connect)
// stops the client: OnDisconnected says why, State returns
// StateDisconnected, commands return ErrDisconnected, and Connect may start
// it again. Close stops it for good.
//
// Commands issued while the client is connecting wait for the connection,
// bounded by their context.
package client
