package nats_test

import (
	"testing"

	"github.com/heraldrt/herald/internal/leaktest"
)

// TestMain fails the run when a test leaks a goroutine.
func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
