package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/webhook"
)

// HTTP server limits.
const (
	readHeaderTimeout = 10 * time.Second
	maxHeaderBytes    = 16 << 10 // request headers; browsers send a few KB, cookies included
	idleTimeout       = 2 * time.Minute
	// httpShutdownTimeout bounds waiting for in-flight HTTP requests (API
	// calls, page loads) once the listener is closed.
	httpShutdownTimeout = 10 * time.Second
	// defaultShutdownWindow is herald.Config's default ShutdownWindow,
	// used to size the shutdown deadline when the setting is 0.
	defaultShutdownWindow = 5 * time.Second
	// webhookFlushTimeout bounds delivering the queued webhooks at exit.
	webhookFlushTimeout = 5 * time.Second
)

// server is herald once started: the node and the HTTP servers in front
// of it.
type server struct {
	node     *herald.Node
	http     *http.Server      // on --addr
	admin    *http.Server      // on --admin-addr, or nil
	acmeHTTP *http.Server      // on --acme-http-addr, or nil
	webhooks *webhook.Webhooks // or nil
	served   chan error        // what the main server's Serve returned
	addr     net.Addr          // where the main server listens
	url      string            // its URL, http:// or https://
}

// startServer builds the node that c describes and serves it on c.Addr,
// with the admin and ACME HTTP-01 servers when they are set. ctx ends the
// dashboard's event streams. On an error it undoes what it started.
func startServer(ctx context.Context, c *Config, o serveOptions, log *slog.Logger) (s *server, err error) {
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	var verifier *auth.Verifier
	if c.authConfigured() {
		if verifier, err = newVerifier(c); err != nil {
			return nil, err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	nodeConf, err := c.nodeConfig(log, reg, verifier)
	if err != nil {
		return nil, err
	}
	tlsConf, acmeMgr, err := tlsConfig(c, o.acmeHTTPClient, log)
	if err != nil {
		return nil, err
	}
	ln, err := listen(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w (is another server using it? choose another address with --addr)", err)
	}
	undo = append(undo, func() { _ = ln.Close() })
	if nodeConf.Broker, err = c.broker(log); err != nil {
		return nil, err
	}
	node, err := herald.New(nodeConf)
	if err != nil {
		if nodeConf.Broker != nil {
			_ = nodeConf.Broker.Close(context.Background())
		}
		return nil, err
	}
	undo = append(undo, func() { _ = node.Shutdown(context.Background()) })
	if verifier != nil {
		installAuth(node, verifier, c, log)
	}
	if err := installProxy(node, c, verifier, reg, log); err != nil {
		return nil, err
	}
	hooks, err := startWebhooks(node, c, nodeConf.Broker, reg, log)
	if err != nil {
		return nil, err
	}
	if hooks != nil {
		undo = append(undo, func() { _ = hooks.Close(context.Background()) })
	}
	logModes(log, c)
	go logCluster(ctx, node, c, log)
	admin, err := startAdmin(node, c, log)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { stopHTTP(admin) })
	acmeHTTP, err := startACMEHTTP(acmeMgr, c, log)
	if err != nil {
		return nil, err
	}

	hs := &http.Server{
		Handler:           routes(ctx, node, c, log, reg),
		ReadHeaderTimeout: c.HandshakeTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
		hs.TLSConfig = tlsConf
		hs.Protocols = http1Only()
		ln = tls.NewListener(ln, tlsConf)
	}
	s = &server{node: node, http: hs, admin: admin, acmeHTTP: acmeHTTP, webhooks: hooks, served: make(chan error, 1),
		addr: ln.Addr(), url: scheme + "://" + ln.Addr().String() + "/"}
	go func() { s.served <- hs.Serve(ln) }()
	return s, nil
}

// stop shuts s down (see shutdown). The admin server stops last, so that
// /readyz answers 503 while the node drains.
func (s *server) stop(c *Config, log *slog.Logger) error {
	err := shutdown(s.http, s.served, s.node, c, log)
	if s.webhooks != nil {
		// The events of the last disconnects, with a few seconds to go.
		ctx, cancel := context.WithTimeout(context.Background(), webhookFlushTimeout)
		if werr := s.webhooks.Close(ctx); werr != nil {
			log.Warn("webhooks still queued at exit were not delivered", "error", werr)
		}
		cancel()
	}
	stopHTTP(s.acmeHTTP)
	stopHTTP(s.admin)
	return err
}

// startAdmin serves the admin routes on --admin-addr, when it is set.
func startAdmin(node *herald.Node, c *Config, log *slog.Logger) (*http.Server, error) {
	if c.AdminAddr == "" {
		return nil, nil
	}
	ln, err := listen(c.AdminAddr)
	if err != nil {
		return nil, fmt.Errorf("admin address: %w", err)
	}
	hs := &http.Server{
		Handler:           adminRoutes(node, c.Pprof),
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { _ = hs.Serve(ln) }()
	log.Info("admin listening", "addr", ln.Addr().String(), "pprof", c.Pprof)
	return hs, nil
}

// shutdown stops the HTTP server (no new connections, in-flight requests
// finish) and then the node, which disconnects its clients over the
// shutdown window. A deadline that passes is logged, not returned: the
// process still exits cleanly.
func shutdown(hs *http.Server, served <-chan error, node *herald.Node, c *Config, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
	if err := hs.Shutdown(ctx); err != nil {
		log.Warn("HTTP requests still running at shutdown; closing them", "error", err)
		_ = hs.Close()
	}
	cancel()
	var err error
	if e := <-served; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = fmt.Errorf("serve HTTP: %w", e)
	}

	window := c.ShutdownWindow
	if window <= 0 {
		window = defaultShutdownWindow
	}
	// The node spreads disconnects over the window if the deadline leaves a
	// third of it for the closes to complete.
	ctx, cancel = context.WithTimeout(context.Background(), window*3/2+5*time.Second)
	defer cancel()
	if e := node.Shutdown(ctx); e != nil {
		log.Warn("node shutdown did not finish in time; remaining connections were dropped", "error", e)
	}
	log.Info("stopped")
	return err
}
