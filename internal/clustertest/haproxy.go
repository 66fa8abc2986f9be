package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// HAProxy is an haproxy started with docs/deployment.md's configuration in
// front of nodes.
type HAProxy struct {
	Port int
	proc *Process
}

// StartHAProxy runs haproxy in front of nodes, with the doc's
// configuration, in the foreground (-db).
func StartHAProxy(t testing.TB, nodes []*Node) *HAProxy {
	t.Helper()
	bin := need(t, "haproxy")
	h := &HAProxy{Port: FreePort(t)}
	conf := withPorts(t, docBlock(t, "haproxy"), nodes, h.Port)
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	h.proc = startProcess(t, bin, "-db", "-f", path)
	waitListening(t, h.Port, h.proc, 10*time.Second)
	return h
}

// WSURL is the WebSocket endpoint through HAProxy.
func (h *HAProxy) WSURL() string { return fmt.Sprintf("ws://127.0.0.1:%d/ws", h.Port) }
