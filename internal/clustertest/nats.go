package clustertest

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NATS is a nats-server with JetStream of the test's own, on a free port,
// its store in a directory of the test's: a restart keeps what JetStream
// stored, as a production server with its store on disk does.
type NATS struct {
	Port int
	proc *Process
}

// StartNATS starts nats-server as docs/deployment.md does, on a free port
// and with its store in a directory of the test's.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	bin := need(t, "nats-server")
	n := &NATS{Port: FreePort(t)}
	args := strings.Fields(strings.NewReplacer(
		"-p 4222", fmt.Sprintf("-p %d", n.Port),
		"-sd /var/lib/nats", "-sd "+t.TempDir(),
	).Replace(docCommand(t, "nats-server")))
	n.proc = startProcess(t, bin, args...)
	waitListening(t, n.Port, n.proc, 10*time.Second)
	return n
}

// URL is the broker URL of this server for herald's --broker.
func (n *NATS) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// Restart kills the server and starts it again, with its store, after
// down.
func (n *NATS) Restart(t testing.TB, down time.Duration) {
	t.Helper()
	n.proc.Kill()
	time.Sleep(down)
	n.proc.Restart(t)
	waitListening(t, n.Port, n.proc, 10*time.Second)
}

// Stall stops the server (SIGSTOP) for d, then lets it go on.
func (n *NATS) Stall(t testing.TB, d time.Duration) {
	n.proc.Pause(t)
	time.Sleep(d)
	n.proc.Signal(syscall.SIGCONT)
}
