package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// APIKey is the HTTP API key of every node the harness starts.
const APIKey = "clustertest-api-key"

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// heraldBinary builds cmd/herald once per test process and returns its
// path.
func heraldBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-clustertest-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "herald")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/herald")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/herald: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// Node is one herald process.
type Node struct {
	Name string
	Port int
	proc *Process
}

// StartNode starts herald as node name on a free port with --broker
// broker, the harness's API key, and extra flags.
func StartNode(t testing.TB, name, broker string, extra ...string) *Node {
	t.Helper()
	n := &Node{Name: name, Port: FreePort(t)}
	args := append([]string{
		"--addr", fmt.Sprintf("127.0.0.1:%d", n.Port),
		"--name", name,
		"--broker", broker,
		"--api-key", APIKey,
		"--log-format", "json",
		"--shutdown-window", "300ms",
	}, extra...)
	n.proc = startProcess(t, heraldBinary(t), args...)
	n.waitReady(t, 20*time.Second)
	return n
}

// waitReady waits until the node's /readyz answers 200.
func (n *Node) waitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(n.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("node %s not ready within %v; output:\n%s", n.Name, timeout, tail(n.proc.Output(), 4000))
}

// URL is the node's base HTTP URL.
func (n *Node) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.Port) }

// Kill ends the node with kill -9: no goodbye to clients or the broker.
func (n *Node) Kill() { n.proc.Kill() }

// Stop shuts the node down gracefully (SIGTERM) and waits for it.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	if !n.proc.Stop(20 * time.Second) {
		t.Fatalf("node %s did not stop within 20 s", n.Name)
	}
}

// Restart starts a stopped or killed node again, same name and port.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.proc.Restart(t)
	n.waitReady(t, 20*time.Second)
}

// Output returns the node's logs so far.
func (n *Node) Output() string { return n.proc.Output() }

// Call posts body to the node's HTTP API method and decodes the answer
// into out (when not nil). A non-200 answer is an error that quotes it.
func (n *Node) Call(ctx context.Context, method string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL()+"/api/"+method, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", method, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
