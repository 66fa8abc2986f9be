package cli

import (
	"log/slog"
	"net/http"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/api"
	"github.com/heraldrt/herald/js"
	"github.com/heraldrt/herald/web"
)

// routes returns the server's HTTP handler: the WebSocket endpoint, the
// server API, the browser SDK and the demo. Every route of the binary is
// here.
func routes(node *herald.Node, c *Config, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	mux.Handle("/api/", api.New(node, api.Config{
		Key:    c.APIKey,
		Logger: log.With("component", "api"),
	}))
	mux.Handle("/herald.js", js.Handler())
	mux.Handle("/", web.Handler())
	return mux
}
