// Package api is Herald's HTTP server API: the way a backend publishes,
// broadcasts, disconnects users and looks at a node without holding a
// WebSocket. It is built only on the exported API of package herald, so an
// application embedding the library can mount the same endpoint.
//
// Every call is `POST /api/<method>` with a JSON object body and the API key
// in `X-API-Key: <key>` or `Authorization: Bearer <key>`:
//
//	curl -sS -X POST http://127.0.0.1:8080/api/publish \
//	  -H 'X-API-Key: s3cret' \
//	  -d '{"channel":"chat:lobby","data":{"text":"hello from the backend"}}'
//
//	{"offset":1,"epoch":"hplkqzvd"}   (with history; 0 and "" without)
//
// Success answers 200 with the method's result object. Failure answers 4xx
// or 5xx with `{"error":{"code":N,"message":"..."}}`, using the error codes of
// the client protocol (package protocol): 101 for a missing or wrong key, 104
// for an unknown method, 106 for a body over Config.MaxBodySize or data over
// the node's MaxPublicationSize (HTTP 413), 107 for a malformed request, 108
// for history or presence on a channel that keeps none, 100 for an internal failure (HTTP 500, or 503 while the
// node shuts down). docs/protocol.md (section 11) is the full reference.
//
// # Methods
//
//	publish     {channel, data, key?}             -> {offset, epoch}
//	broadcast   {channels, data, key?}            -> {results: [{channel, offset, epoch} | {channel, error}]}
//	disconnect  {user | client, code?, reason?}   -> {}
//	channels    {pattern?}                        -> {channels: [{channel, subscribers}]}
//	info        {}                                -> {nodes: [{name, connections, users, ...}]}
//	history     {channel, since?, limit?, reverse?} -> {offset, epoch, publications}
//	presence    {channel}                         -> {clients: {id: {user, info}}}
//	subscribe   {user, channel}                   -> {}
//	unsubscribe {user, channel}                   -> {}
//
// Mounting: the Handler expects to be mounted at /api/
// (mux.Handle("/api/", h)) and also works behind http.StripPrefix("/api", h).
//
// Metrics: with Config.Registry set, every request counts in
// herald_api_requests_total{method,status} and
// herald_api_request_duration_seconds{method}, where method is the API
// method of the path or "unknown" (docs/operations.md).
//
// Without a configured key the API is closed: every request answers 401 with
// a message saying how to set one. Unknown body fields are ignored, so that
// newer callers can talk to older servers; required fields are checked.
package api
