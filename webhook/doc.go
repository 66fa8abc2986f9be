// Package webhook tells the application's backend what happened on a
// Herald cluster: it POSTs signed, batched JSON events to configured URLs.
//
//	w, err := webhook.New(webhook.Config{
//		Endpoints: []webhook.Endpoint{{URL: "https://app.example.com/herald/webhooks", Secret: secret}},
//		Presence:  redisBroker, // the broker's presence store: cluster-wide events
//		Registry:  reg,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	w.Attach(node)
//	defer w.Close(ctx) // after node.Shutdown
//
// # Events
//
// channel_occupied and channel_vacated (a channel's first subscriber and
// last, in the whole cluster), member_added and member_removed (a user's
// first and last subscription to a channel whose namespace keeps
// presence), user_online and user_offline (a user's first and last
// connection), and publication (each publication in the namespaces of
// Config.Publications, sent by the node that accepted it). tracker.go says how nodes agree on first and last through
// the broker's presence store, and which races give duplicates; settle.go
// how the live nodes send the events a crashed node owed (user_offline,
// channel_vacated, member_removed), once, by the live node whose name
// sorts first.
//
// # Delivery
//
// A request's body is a Batch, {"events": [...]}, each Event with a
// unique ID. Delivery is at least once: a request not answered 2xx is
// sent again after a backoff that doubles from Config.MinBackoff to
// Config.MaxBackoff, so a receiver de-duplicates by ID. Each endpoint has
// a queue of Config.QueueSize events; while a receiver stays down, the
// oldest are dropped, counted by herald_webhook_dropped_total and logged.
// Emitting never blocks the node.
//
// # Signatures
//
// Each request carries SignatureHeader, "t=UNIX,v1=HEX", an HMAC-SHA256 of
// "t.body" keyed with the endpoint's secret. Verify checks it, with a
// replay window of Tolerance (5 minutes); docs/backend.md shows the same
// check in Node and Python.
package webhook
