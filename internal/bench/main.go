package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs `herald bench` with args (the arguments after "bench"),
// writing the report to stdout and progress and errors to stderr, and
// returns the exit code: 0 when the run completed, 1 when it could not
// run, 2 for a bad command line.
//
// With the hidden first argument --worker, Main is a worker process: it
// reads its instructions from standard input and writes JSON lines to
// stdout. The coordinator starts workers by running its own executable
// with the arguments "bench --worker", so the binary must route
// `bench` to Main.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == workerFlag {
		// Ctrl-C reaches the whole process group; the coordinator decides
		// when a worker stops (it closes the worker's standard input).
		signal.Ignore(os.Interrupt)
		if err := runWorker(os.Stdin, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald bench: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runCoordinator(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "herald bench: %v\n", err)
		return 1
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		writeText(stdout, res)
	}
	if cfg.HTML != "" {
		if err := writeHTMLFile(cfg.HTML, res); err != nil {
			fmt.Fprintf(stderr, "herald bench: %v\n", err)
			return 1
		}
	}
	return 0
}
