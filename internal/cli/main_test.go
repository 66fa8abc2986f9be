package cli

import (
	"os"
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/heraldrt/herald/internal/leaktest"
)

// runAsHerald is the variable that makes the test binary run as herald:
// with it set, TestMain runs Main with the arguments after "--" and exits
// (see startHerald).
const runAsHerald = "HERALD_CLI_TEST_RUN_AS_HERALD"

// TestMain fails the run when a test leaks a goroutine. Pebble's
// validation authority (the ACME tests' CA) keeps one task loop per
// instance for the life of the process. rueidis, after a connection to
// a Redis that is not there (TestServeBrokerUnreachable), lets a delayed
// call's goroutine finish its sleep, under a second, on its own.
func TestMain(m *testing.M) {
	if os.Getenv(runAsHerald) == "1" {
		args := os.Args[slices.Index(os.Args, "--")+1:]
		os.Exit(Main(args, os.Stdout, os.Stderr))
	}
	leaktest.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/letsencrypt/pebble/v2/va.VAImpl.processTasks"),
		goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1"))
}
