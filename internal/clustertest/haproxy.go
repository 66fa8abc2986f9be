package clustertest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StartHAProxy runs haproxy in front of nodes, with the doc's
// configuration, in the foreground (-db).
func StartHAProxy(t testing.TB, nodes []*Node) *LoadBalancer {
	t.Helper()
	bin := need(t, "haproxy")
	h := &LoadBalancer{Port: FreePort(t)}
	conf := withPorts(t, docBlock(t, "haproxy"), nodes, h.Port)
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	h.proc = startProcess(t, bin, "-db", "-f", path)
	waitListening(t, h.Port, h.proc, 10*time.Second)
	return h
}
