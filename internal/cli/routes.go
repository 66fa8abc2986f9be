package cli

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/api"
	"github.com/heraldrt/herald/dashboard"
	"github.com/heraldrt/herald/js"
	"github.com/heraldrt/herald/web"
)

// routes returns the server's main HTTP handler: the WebSocket endpoint
// and its fallbacks,
// the server API, the dashboard, the browser SDK and the demo, plus the
// admin routes when no separate admin address is set. Every route of the
// binary is here or in adminRoutes. ctx ends the dashboard's event streams
// at shutdown.
func routes(ctx context.Context, node *herald.Node, c *Config, log *slog.Logger, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	// The fallback transports for clients without a WebSocket: streams
	// down (HTTP-streaming, Server-Sent Events), commands up.
	fallback := node.FallbackHandler()
	for _, path := range []string{"/stream", "/sse", "/cmd"} {
		mux.Handle(path, fallback)
	}
	mux.Handle("/api/", api.New(node, api.Config{
		Key:      c.APIKey,
		KeyHint:  apiKeyHint,
		Logger:   log.With("component", "api"),
		Registry: reg,
	}))
	dash := dashboard.New(node, dashboard.Config{
		Password: c.DashboardPassword, APIKey: c.APIKey, PasswordHint: dashboardPasswordHint,
		Logger: log.With("component", "dashboard"), Context: ctx,
	})
	mux.Handle("/dashboard/", dash)
	mux.Handle("/dashboard", dash)
	mux.Handle("/herald.js", js.Handler())
	mux.Handle("/", web.Handler())
	if c.AdminAddr == "" {
		addAdminRoutes(mux, node, false)
	}
	return mux
}

// adminRoutes returns the handler of --admin-addr.
func adminRoutes(node *herald.Node, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	addAdminRoutes(mux, node, withPprof)
	return mux
}

// addAdminRoutes mounts /metrics, /healthz (alive) and /readyz (not
// draining and the broker answers; 503 otherwise), and pprof when asked.
func addAdminRoutes(mux *http.ServeMux, node *herald.Node, withPprof bool) {
	mux.Handle("/metrics", node.MetricsHandler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := node.Ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
}
