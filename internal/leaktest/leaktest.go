// Package leaktest is the goroutine-leak check every Herald test package
// runs in its TestMain: after the tests, no goroutine may be left but the
// ones the libraries start once per process in their package init (nbio's
// engine and timer, ants' default pool).
package leaktest

import (
	"testing"

	"go.uber.org/goleak"

	ws "github.com/heraldrt/herald/transport/websocket"
)

// VerifyTestMain silences nbio's own logging, runs the tests and fails the
// run when a goroutine leaked.
func VerifyTestMain(m *testing.M, opts ...goleak.Option) {
	ws.SetLibraryLogger(nil)
	goleak.VerifyTestMain(m, append(opts,
		// nbio's shared default engine and timer goroutines are package
		// state of the library, started by its init.
		goleak.IgnoreTopFunction("github.com/lesismal/nbio/timer.(*Timer).loop"),
		goleak.IgnoreTopFunction("github.com/lesismal/nbio/taskpool.New.func3"),
		// ants starts its default pool in its init: whatever runs before
		// the first test is the libraries' own.
		goleak.IgnoreCurrent(),
	)...)
}
