package cli

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/heraldrt/herald/internal/leaktest"
)

// TestMain fails the run when a test leaks a goroutine. Pebble's
// validation authority (the ACME tests' CA) keeps one task loop per
// instance for the life of the process.
func TestMain(m *testing.M) {
	leaktest.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/letsencrypt/pebble/v2/va.VAImpl.processTasks"))
}
