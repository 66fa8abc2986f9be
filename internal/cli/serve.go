package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/transport/websocket"
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
)

// serveOptions is what serve needs from its caller besides the arguments.
type serveOptions struct {
	lookupEnv func(string) (string, bool) // the environment (os.LookupEnv)
	stderr    io.Writer                   // where logs go
	terminal  bool                        // stderr is a terminal: the default log format is text
	// ready, when set, is called with the listening address once the
	// server accepts connections.
	ready func(addr net.Addr)
	// libraryLogger routes nbio's logs into slog. nbio's logger is
	// process-wide, so only Main sets this.
	libraryLogger bool
	// acmeHTTPClient, when set, is the HTTP client of the ACME client:
	// tests use it to trust a test CA's directory.
	acmeHTTPClient *http.Client
}

// usageError is a mistake in the command line, the environment or the
// config file: Main prints it with a pointer to help and exits 2.
type usageError struct{ err error }

// Error returns the mistake.
func (e usageError) Error() string { return e.err.Error() }

// Unwrap returns the mistake.
func (e usageError) Unwrap() error { return e.err }

// serve runs `herald serve` until ctx ends, then shuts down gracefully: it
// stops accepting, lets in-flight HTTP requests finish, and disconnects the
// clients (code 3000, reconnect) spread over the shutdown window. It returns
// nil after a clean shutdown, flag.ErrHelp when args ask for help, a
// usageError for bad settings, and otherwise an error it has already logged.
func serve(ctx context.Context, args []string, o serveOptions) (err error) {
	c, err := Load(args, o.lookupEnv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if err := c.checkCombinations(); err != nil {
		return usageError{err}
	}
	format := logFormat(c.LogFormat, o.terminal)
	level := parseLevel(c.LogLevel)
	log := newLogger(o.stderr, format, level)
	listening := false
	defer func() {
		switch {
		case err == nil:
		case listening:
			log.Error("herald stopped", "error", err)
		default:
			log.Error("herald cannot start", "error", err)
		}
	}()

	if c.openMode() {
		if err := checkOpenMode(c.Addr, c.Insecure); err != nil {
			return err
		}
	}
	if o.libraryLogger {
		websocket.SetLibraryLogger(newLogger(o.stderr, format, max(level, slog.LevelWarn)))
	}

	logStart(log, &c)
	var verifier *auth.Verifier
	if c.authConfigured() {
		if verifier, err = newVerifier(&c); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	nodeConf, err := c.nodeConfig(log, reg, verifier)
	if err != nil {
		return err
	}
	tlsConf, acmeMgr, err := tlsConfig(&c, o.acmeHTTPClient, log)
	if err != nil {
		return err
	}
	ln, err := listen(c.Addr)
	if err != nil {
		return fmt.Errorf("%w (is another server using it? choose another address with --addr)", err)
	}
	node, err := herald.New(nodeConf)
	if err != nil {
		_ = ln.Close()
		return err
	}
	if verifier != nil {
		installAuth(node, verifier, &c, log)
	}
	logModes(log, &c)

	admin, err := startAdmin(node, &c, log)
	if err != nil {
		_ = ln.Close()
		_ = node.Shutdown(context.Background())
		return err
	}
	acmeHTTP, err := startACMEHTTP(acmeMgr, &c, log)
	if err != nil {
		_ = ln.Close()
		stopHTTP(admin)
		_ = node.Shutdown(context.Background())
		return err
	}
	hs := &http.Server{
		Handler:           routes(ctx, node, &c, log, reg),
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
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	trimCtx, stopTrim := context.WithCancel(ctx)
	defer stopTrim()
	go newMemoryTrimmer(c.MemoryTrimAfter, log).run(trimCtx)
	listening = true
	log.Info("listening", "node", node.Name(), "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String()+"/")
	if o.ready != nil {
		o.ready(ln.Addr())
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("stopping", "cause", context.Cause(ctx).Error())
	case serveErr = <-served:
		serveErr = fmt.Errorf("serve HTTP: %w", serveErr)
		served <- nil // so that shutdown does not wait for it again
	}
	err = errors.Join(serveErr, shutdown(hs, served, node, &c, log))
	stopHTTP(acmeHTTP)
	if admin != nil {
		// Last, so that /readyz answers 503 while the node drains.
		stopCtx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		_ = admin.Shutdown(stopCtx)
	}
	return err
}

// logStart logs the version the server starts with, and its config file.
func logStart(log *slog.Logger, c *Config) {
	bi := readBuildInfo()
	attrs := []any{"version", bi.Version, "go", bi.GoVersion}
	if bi.Commit != "" {
		attrs = append(attrs, "commit", bi.Commit)
	}
	if c.ConfigFile != "" {
		attrs = append(attrs, "config_file", c.ConfigFile)
	}
	log.Info("starting herald", attrs...)
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

// logModes says how exposed the server is. (apiLogger warns when the HTTP
// API has no key.)
func logModes(log *slog.Logger, c *Config) {
	switch {
	case !c.openMode():
	case isLoopback(c.Addr):
		log.Info("open mode: clients connect anonymously and may subscribe and publish; listening on loopback only")
	default:
		log.Warn("open mode on a non-loopback address (--insecure): anyone who can reach it may connect, subscribe and publish; configure authentication before exposing it")
	}
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
