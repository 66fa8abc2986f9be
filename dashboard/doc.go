// Package dashboard is Herald's live dashboard: one embedded page (HTML, CSS
// and JavaScript, no external assets) that shows a node as it runs, fed by
// the node itself over Server-Sent Events.
//
// Mount it at /dashboard/ (the mux redirects /dashboard there; the handler
// redirects it too when it is mounted at both):
//
//	mux.Handle("/dashboard/", dashboard.New(node, dashboard.Config{
//		Password: adminPassword, // or APIKey, or both
//		APIKey:   apiKey,
//		Context:  ctx, // ends the open event streams when the server stops
//	}))
//
// The page shows the node's name, uptime and draining state; connections,
// users, channels and subscriptions; message, delivery and byte rates over
// the last five minutes as charts; the busiest channels; and the latest
// disconnects (code, reason, client, user) and errors. It receives
// node.Stats every Config.Interval from GET /dashboard/events
// (text/event-stream); the browser computes rates from successive snapshots.
//
// # Access
//
// Every request needs HTTP Basic authentication: any user name, and as the
// password either Config.Password or Config.APIKey (compared in constant
// time). With neither configured, the dashboard answers 401 with a message
// saying how to set one (Config.PasswordHint).
//
// # Lifetime
//
// An event stream ends when its client goes away, when Config.Context is
// done, and after it has sent a snapshot of a draining node. The handler
// starts no goroutine of its own: each stream runs in its request's
// goroutine, so http.Server.Shutdown can finish once Config.Context is done.
package dashboard
