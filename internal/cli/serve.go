package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/heraldrt/herald/transport/websocket"
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
	srv, err := startServer(ctx, &c, o, log)
	if err != nil {
		return err
	}
	trimCtx, stopTrim := context.WithCancel(ctx)
	defer stopTrim()
	go newMemoryTrimmer(c.MemoryTrimAfter, log).run(trimCtx)
	listening = true
	log.Info("listening", "node", srv.node.Name(), "addr", srv.addr.String(), "url", srv.url)
	if o.ready != nil {
		o.ready(srv.addr)
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("stopping", "cause", context.Cause(ctx).Error())
	case serveErr = <-srv.served:
		serveErr = fmt.Errorf("serve HTTP: %w", serveErr)
		srv.served <- nil // so that shutdown does not wait for it again
	}
	return errors.Join(serveErr, srv.stop(&c, log))
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

// logModes says how exposed the server is. (The api package warns when the HTTP
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
