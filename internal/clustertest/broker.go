package clustertest

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Broker is a broker server of the test's own, on a free port, that the
// nodes join through.
type Broker struct {
	Port int
	url  string
	proc *Process
}

// StartBroker starts a broker server of kind "redis" or "nats":
//
//   - redis-server keeping nothing on disk: a restart loses its data, as
//     a Redis without persistence does;
//   - nats-server with JetStream as docs/deployment.md runs it, its store
//     in a directory of the test's: a restart keeps what JetStream
//     stored, as a production server with its store on disk does.
func StartBroker(t testing.TB, kind string) *Broker {
	t.Helper()
	b := &Broker{Port: FreePort(t)}
	switch kind {
	case "redis":
		b.url = fmt.Sprintf("redis://127.0.0.1:%d/0", b.Port)
		b.proc = startProcess(t, need(t, "redis-server"), "--port", fmt.Sprint(b.Port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	case "nats":
		b.url = fmt.Sprintf("nats://127.0.0.1:%d", b.Port)
		args := strings.Fields(strings.NewReplacer(
			"-p 4222", fmt.Sprintf("-p %d", b.Port),
			"-sd /var/lib/nats", "-sd "+t.TempDir(),
		).Replace(docCommand(t, "nats-server")))
		b.proc = startProcess(t, need(t, "nats-server"), args...)
	default:
		t.Fatalf("unknown broker %q", kind)
	}
	waitListening(t, b.Port, b.proc, 10*time.Second)
	return b
}

// URL is the server's URL for herald's --broker.
func (b *Broker) URL() string { return b.url }

// Restart kills the server and starts it again on the same port after
// down.
func (b *Broker) Restart(t testing.TB, down time.Duration) {
	t.Helper()
	b.proc.Kill()
	time.Sleep(down)
	b.proc.Restart(t)
	waitListening(t, b.Port, b.proc, 10*time.Second)
}

// Stall stops the server (SIGSTOP) for d, then lets it go on (SIGCONT):
// its connections stay open and nothing answers meanwhile.
func (b *Broker) Stall(t testing.TB, d time.Duration) {
	b.proc.Pause(t)
	time.Sleep(d)
	b.proc.Signal(syscall.SIGCONT)
}
