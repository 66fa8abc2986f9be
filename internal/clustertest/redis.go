package clustertest

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// Broker is a broker server of the test's own that the nodes join
// through: Redis or NATS.
type Broker interface {
	// URL is the server's URL for herald's --broker.
	URL() string
	// Restart kills the server and starts it again after down.
	Restart(t testing.TB, down time.Duration)
	// Stall stops the server for d (SIGSTOP), then lets it go on.
	Stall(t testing.TB, d time.Duration)
}

// StartBroker starts a broker server of kind "redis" or "nats".
func StartBroker(t testing.TB, kind string) Broker {
	t.Helper()
	if kind == "nats" {
		return StartNATS(t)
	}
	return StartRedis(t)
}

// Redis is a redis-server of the test's own, on a free port, keeping
// nothing on disk: a restart loses its data, as a Redis without
// persistence does.
type Redis struct {
	Port int
	proc *Process
}

// StartRedis starts redis-server on a free port.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin := need(t, "redis-server")
	port := FreePort(t)
	r := &Redis{Port: port}
	r.proc = startProcess(t, bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	waitListening(t, port, r.proc, 10*time.Second)
	return r
}

// URL is the broker URL of this Redis for herald's --broker.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Restart kills Redis (its data is lost) and starts it again on the same
// port after down.
func (r *Redis) Restart(t testing.TB, down time.Duration) {
	t.Helper()
	r.proc.Kill()
	time.Sleep(down)
	r.proc.Restart(t)
	waitListening(t, r.Port, r.proc, 10*time.Second)
}

// Stall stops Redis (SIGSTOP) for d, then lets it go on (SIGCONT): its
// connections stay open and nothing answers meanwhile.
func (r *Redis) Stall(t testing.TB, d time.Duration) {
	r.proc.Pause(t)
	time.Sleep(d)
	r.proc.Signal(syscall.SIGCONT)
}
