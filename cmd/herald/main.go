// Command herald runs the Herald real-time server. Run `herald help` for
// its subcommands and flags; the command itself lives in internal/cli.
package main

import (
	"os"

	"github.com/heraldrt/herald/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
