package dashboard_test

import (
	"testing"

	"go.uber.org/goleak"

	ws "github.com/heraldrt/herald/transport/websocket"
)

func TestMain(m *testing.M) {
	ws.SetLibraryLogger(nil)
	goleak.VerifyTestMain(m,
		// nbio's shared default engine and timer goroutines are package
		// state of the library, started by its init.
		goleak.IgnoreTopFunction("github.com/lesismal/nbio/timer.(*Timer).loop"),
		goleak.IgnoreTopFunction("github.com/lesismal/nbio/taskpool.New.func3"),
	)
}
