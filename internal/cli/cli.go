// Package cli is the herald command: `herald serve` (the default), `herald
// token`, `herald version` and `herald help`. It parses flags with the standard flag
// package, one FlagSet per subcommand; every serve flag is also an
// environment variable and a key of the YAML config file (see Load).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/heraldrt/herald/internal/bench"
)

// Exit codes of Main.
const (
	exitOK    = 0
	exitError = 1 // the server failed
	exitUsage = 2 // bad command line, environment or config file
)

// Main runs the herald command with args (without the program name), writing
// output to stdout and logs and errors to stderr, and returns the process
// exit code. With no subcommand, or when the first argument is a flag, it
// runs serve.
//
// serve stops gracefully on SIGINT or SIGTERM; a second signal during the
// shutdown ends the process at once.
func Main(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(args, stdout, stderr)
	case "bench":
		return bench.Main(args, stdout, stderr)
	case "version":
		if len(args) > 0 {
			return usage(stderr, fmt.Errorf("version takes no arguments, got %q", args[0]))
		}
		readBuildInfo().write(stdout)
		return exitOK
	case "token":
		return runToken(args, stdout, stderr, os.LookupEnv)
	case "help":
		writeHelp(stdout)
		return exitOK
	default:
		return usage(stderr, fmt.Errorf("unknown command %q", cmd))
	}
}

// runServe runs serve until SIGINT or SIGTERM and returns the exit code:
// help goes to stdout, a usage error to stderr with a pointer to help.
func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := shutdownSignals()
	defer stop()

	err := serve(ctx, args, serveOptions{
		lookupEnv:     os.LookupEnv,
		stderr:        stderr,
		terminal:      isTerminal(stderr),
		libraryLogger: true,
	})
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		writeHelp(stdout)
		return exitOK
	case errors.As(err, &ue):
		return usage(stderr, err)
	default:
		return exitError // serve has logged it
	}
}

// usage prints err and a pointer to help on stderr, and returns exitUsage.
func usage(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "herald: %v\nRun 'herald help' for usage.\n", err)
	return exitUsage
}

// shutdownSignals returns a context that ends at the first SIGINT or
// SIGTERM, which starts the graceful shutdown. A second one ends the
// process at once, killed by that signal as if nothing handled it. The
// signals wait in a channel, so a second one that comes while the first
// is still being handled is never lost. stop releases the signals.
func shutdownSignals() (ctx context.Context, stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-sigs:
		case <-done:
			return
		}
		cancel(fmt.Errorf("%v signal received", first))
		select {
		case second := <-sigs:
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			if s, ok := second.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
			}
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel(context.Canceled)
		})
	}
}
