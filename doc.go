// Package herald is a real-time messaging server you can run as the herald
// binary or embed in your own Go program.
//
// Clients hold WebSocket connections, subscribe to channels, publish, call
// RPC methods and send messages; your backend publishes through the Node
// (or the HTTP API in package api). One Node serves one process; many
// nodes share channels through a distributed broker.
//
// # A node in twenty lines
//
//	node, err := herald.New(herald.Config{Channels: herald.ChannelOptions{HistorySize: 100}})
//	if err != nil {
//		log.Fatal(err)
//	}
//	node.OnConnect(func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
//		user, err := verify(e.Token) // your authentication
//		if err != nil {
//			return herald.ConnectReply{}, herald.ErrUnauthorized
//		}
//		return herald.ConnectReply{User: user}, nil
//	})
//	node.OnRPC("time", func(ctx context.Context, s *herald.Session, _ json.RawMessage) (any, error) {
//		return time.Now().UTC(), nil
//	})
//	http.Handle("/ws", node.Handler())
//	go http.ListenAndServe("127.0.0.1:8080", nil)
//
//	// Anywhere in your backend:
//	node.Publish(ctx, "news", json.RawMessage(`{"headline":"Herald ships"}`))
//
// # The pieces
//
//   - Node (New, Config): owns the connections, the handlers and the broker.
//     Handler mounts the WebSocket endpoint on any mux, FallbackHandler
//     the HTTP-streaming and SSE fallbacks; Shutdown drains them.
//   - Event handlers: OnConnect authenticates, OnSubscribe and OnPublish
//     authorize (OnPublish may rewrite), OnRPC answers methods, OnMessage
//     receives the send command, OnDisconnect says why a connection ended.
//     Without a handler, the default is to allow.
//   - Session: the server side of one connection, given to handlers: its
//     ID, User, Info, Channels; Send pushes a message to it, Disconnect
//     closes it with a close code.
//   - Publishing from the server: Publish, Broadcast (several channels),
//     PublishBinary and BroadcastBinary for bytes instead of JSON, WithKey
//     for idempotent publishes, History for a channel's stream.
//   - Disconnect closes a user's connections (or one client's) on every
//     node; Channels and Info describe the node.
//   - Errors: handlers return *Error (ErrPermissionDenied and friends, or
//     NewError with your own code from 1000 up) to choose what the client
//     sees; any other error reaches the client as code 100 and is logged.
//
// # How a publication travels
//
// socket -> transport (package transport/websocket, nbio's event loop; an
// idle connection holds no goroutine and no buffer) -> Session (decodes
// commands, package protocol) -> Node -> Broker (package broker; the
// embedded broker/memory by default) -> Node (encodes the publication once
// per wire encoding its subscribers use: JSON, or the binary encoding that
// a WebSocket client negotiates with the herald.protobuf subprotocol)
// -> hub (the channel's local subscribers) -> each Session's write queue,
// bounded in bytes -> the writer pool, which joins whatever is queued into
// one frame and one write -> socket. A subscriber that falls behind by more
// than Config.WriteQueueSize is disconnected as a slow consumer (close code
// 3002) instead of slowing anyone else.
//
// Lock order, where more than one lock is held at once:
//
//	Session.connectMu -> Node.userSubsMu -> Node.sessionsMu
//	hub shard subMu -> hub shard mu -> Session.mu -> writer.mu
//	Session.mu -> wheel.mu (the heartbeat wheel never calls a session
//	while holding its own lock)
//	memory broker shard -> hub shard mu (a publication is fanned out under
//	its channel's broker lock, which keeps the channel in order)
//
// The hub never calls the broker while holding its map lock, and a Session
// never calls into the hub while holding Session.mu.
//
// # Where things are
//
// The root package is split by feature, one feature per file, and a file
// is named for what it does, not for the type whose methods it holds: the
// subscribe command and Session.subscribe live in subscribe.go, not in a
// session file. A type's own file holds the type and its small public face
// (node.go, session.go). The features:
//
//   - node.go, shutdown.go, config.go: creating and stopping a Node.
//   - connect.go, commands.go, close.go: a connection's life: the connect
//     command, the command loop, and how a connection ends (Disconnect,
//     close codes).
//   - subscribe.go, subscription.go, server_subscriptions.go: client
//     subscriptions, the per-session list, and subscriptions made by the
//     server (Node.Subscribe, connect-time channels).
//   - publish.go, history.go, presence.go, hub.go: publishing, a channel's
//     stream, who is present, and the local fan-out.
//   - namespace.go, access.go, origin.go, clientip.go, limits.go,
//     expiry.go, user_limit.go: channel settings, permissions (including
//     private channels), Origin checks, the client's address, limits, and
//     credential expiry and refresh; the per-user connection limit, which
//     counts across the cluster.
//   - write_queue.go, writer.go: a session's bounded queue of outgoing
//     messages and the writer pool that drains it into sockets.
//   - heartbeat.go, wheel.go: pings and pongs, on one timing wheel per node.
//   - fallback.go: the fallback transports (package transport/httpstream:
//     HTTP-streaming and Server-Sent Events down, POSTed commands up), and
//     the routing of a POST that reached another node to the stream's.
//   - control.go, cluster.go, seams.go, instrumented_broker.go: messages
//     between nodes, the cluster view (Node.Nodes: every node announces
//     itself; Node.OnNodeLost: one fell silent), the adapters through which the broker and the transport
//     call the engine (broker.EventHandler with its StateLossHandler, and
//     websocket.Peer, kept off the public API), and the broker wrapper that
//     counts calls for the metrics.
//   - events.go, errors.go, info.go, stats.go, metrics.go: the handler
//     types, every error, and what the node tells about itself.
//   - activity.go, rpc_fallback.go, refuse.go: what integrations (packages
//     proxy and webhook) plug into: OnActivity hears connections and
//     subscriptions start and end and publications accepted, OnRPCFallback answers methods without
//     a handler of their own, and DisconnectError lets OnConnect refuse
//     with a close code of its choice.
//
// The wire protocol is specified in docs/protocol.md; the Go client is
// package client and the browser client is served at /herald.js.
package herald
