package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/browsertest"
)

// Backend is one of the example backends of examples/ (docs/backend.md),
// running as its own process on a free port, for the tests that put the
// herald binary in front of it: examples/ and the demo's in web/.
type Backend struct {
	Port int
	proc *Process
}

// ExampleDir returns the absolute path of examples/name.
func ExampleDir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", name)
}

// StartBackend starts program with args in dir, with PORT set to a free
// port and env added to the environment, and waits until it listens.
func StartBackend(t testing.TB, dir string, env []string, program string, args ...string) *Backend {
	t.Helper()
	b := &Backend{Port: FreePort(t)}
	b.proc = startProcessIn(t, &Process{name: program, args: args, dir: dir,
		env: append([]string{fmt.Sprintf("PORT=%d", b.Port)}, env...)})
	waitListening(t, b.Port, b.proc, 15*time.Second)
	return b
}

// StartNodeBackend starts examples/node-backend (Express) with env added.
// It skips the test without node or the example's npm packages (make
// e2e-deps), or fails it under HERALD_REQUIRE_SERVICES=1.
func StartNodeBackend(t testing.TB, env ...string) *Backend {
	t.Helper()
	dir := ExampleDir("node-backend")
	node := need(t, "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "express")); err != nil {
		browsertest.NeedService(t, "node backend example: express is not installed; run npm ci in examples/node-backend (make e2e-deps)")
	}
	return StartBackend(t, dir, env, node, "server.js")
}

// URL is the backend's base URL, without a trailing slash.
func (b *Backend) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", b.Port) }

// Output returns what the backend printed so far.
func (b *Backend) Output() string { return b.proc.Output() }
