// Package proxy lets the application's backend decide, over HTTP, what
// Herald's handlers would: it builds herald handlers that POST each event
// as JSON to the backend and turn its answer into the client's result.
//
//	p, err := proxy.New(proxy.Config{
//		Connect: &proxy.Endpoint{URL: "http://127.0.0.1:3000/herald/connect", Cookies: []string{"sid"}},
//		RPC:     []proxy.RPCRoute{{Method: "*", Endpoint: proxy.Endpoint{URL: "http://127.0.0.1:3000/herald/rpc"}}},
//		Registry: reg,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	p.Install(node)
//
// # Events
//
// connect (the backend authenticates the connection from the forwarded
// headers and cookies and answers its user, info, data, channels and
// expiry), refresh, subscribe (allow or deny; also asked for presence and
// history reads), publish (allow, deny or rewrite the data), rpc (routed
// by method name or path.Match pattern; the backend's result is the RPC's
// result) and send (forwarded, nothing goes back). The request types
// (ConnectRequest, ChannelRequest, RPCRequest, RefreshRequest) are the
// bodies Herald sends.
//
// # Answers
//
// A backend answers 200 with exactly one of
//
//	{"result": {...}}
//	{"error": {"code": 1001, "message": "..."}}
//	{"disconnect": {"code": 4000, "reason": "..."}}
//
// An error reaches the client as the command's error (on connect it
// closes the connection as herald.ConnectHandler says); a disconnect
// closes the connection with its code. Anything else (the backend
// unreachable or slower than the endpoint's Timeout, a status other than
// 2xx, a redirect, a body that is not that JSON or larger than
// Config.MaxResponseSize) gives the client code 112, backend unavailable
// (ErrTimeout, ErrUnreachable, ErrBadAnswer), and is logged and counted;
// the connection stays open. At most Config.MaxConcurrent calls are in
// flight on a node: one more fails at once with ErrBusy (112 as well).
//
// Only connect, refresh and subscribe, which change nothing on the
// backend, may retry (Endpoint.Retries), within their one timeout.
//
// # Metrics
//
// herald_proxy_calls_total{event,outcome}, herald_proxy_call_duration_seconds{event}
// and herald_proxy_calls_in_flight, on Config.Registry (the node's).
//
// # With JWT
//
// PreferToken sends connects with a token to the JWT rules and the others
// to the backend; every other event configured here is the backend's.
// docs/backend.md has the request and answer shapes with curl examples.
package proxy
