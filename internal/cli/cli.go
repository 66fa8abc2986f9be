// Package cli is the herald command: `herald serve` (the default), `herald
// version` and `herald help`. It parses flags with the standard flag
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
	"syscall"
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
	case "version":
		if len(args) > 0 {
			return usage(stderr, fmt.Errorf("version takes no arguments, got %q", args[0]))
		}
		readBuildInfo().write(stdout)
		return exitOK
	case "help":
		writeHelp(stdout)
		return exitOK
	default:
		return usage(stderr, fmt.Errorf("unknown command %q", cmd))
	}
}

func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Once the first signal has started the shutdown, restore the default
	// behaviour: a second signal ends the process at once.
	context.AfterFunc(ctx, stop)

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

func usage(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "herald: %v\nRun 'herald help' for usage.\n", err)
	return exitUsage
}

// writeHelp prints the subcommands and the serve flags with their
// environment variables and config file keys.
func writeHelp(w io.Writer) {
	def := Defaults()
	var b strings.Builder
	b.WriteString(`Herald is a real-time WebSocket server: clients subscribe to channels and
publish; backends publish through the HTTP API.

Usage:
  herald [serve] [flags]   run the server (the default command)
  herald version           print the version, commit and Go version
  herald help              print this help

The server serves the WebSocket endpoint at /ws, the HTTP API at /api/, the
browser SDK at /herald.js and a demo chat at /.

Flags of serve. Each is also an environment variable and, except --config, a
key of the YAML config file. A flag wins over the environment, the
environment over the config file, the config file over the default.
Durations take a unit (25s, 1m30s); sizes are in bytes.

`)
	for _, s := range settings {
		b.WriteString("  --" + s.name)
		if s.arg != "" {
			b.WriteString(" " + s.arg)
		}
		b.WriteString("\n        " + s.usage)
		switch {
		case s.def != "":
			fmt.Fprintf(&b, " (default: %s)", s.def)
		case s.isBool():
		case s.String(&def) != "":
			fmt.Fprintf(&b, " (default %s)", s.String(&def))
		}
		b.WriteString("\n        env " + s.env())
		if k := s.key(); k != "" {
			b.WriteString(", config key " + k)
		}
		b.WriteString("\n")
	}
	b.WriteString(`
Open mode: Herald has no client authentication yet, so clients connect
anonymously and may subscribe and publish. The server therefore refuses to
listen on an address other than loopback (127.0.0.0/8, ::1, localhost) unless
--insecure is given.

SIGINT or SIGTERM shuts the server down gracefully: it stops accepting and
disconnects every client with code 3000 (reconnect), spread over the
shutdown window. A second signal exits at once.

Examples:
  herald                                   serve the demo at http://127.0.0.1:8080/
  herald --addr 127.0.0.1:9000 --log-format json
  HERALD_API_KEY=secret herald --config herald.yaml
`)
	io.WriteString(w, b.String())
}
