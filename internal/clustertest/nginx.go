package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// docBlocks returns the fenced blocks of docs/deployment.md in language
// lang (```nginx, ```haproxy, ```ini, ```sysctl, ```sh). The tests run
// them as written, changing only the ports and directories: the doc's
// nodes listen on 127.0.0.1:8081, :8082 and :8083, its load balancers on
// 127.0.0.1:8080.
func docBlocks(t testing.TB, lang string) []string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```"+lang+"\\n(.*?)```").FindAllSubmatch(doc, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		t.Fatalf("docs/deployment.md has no ```%s block", lang)
	}
	return out
}

// docBlock returns the first ```lang block of docs/deployment.md.
func docBlock(t testing.TB, lang string) string {
	t.Helper()
	return docBlocks(t, lang)[0]
}

// docCommand returns the arguments of the first line of docs/deployment.md's
// ```sh blocks that runs program.
func docCommand(t testing.TB, program string) string {
	t.Helper()
	for _, block := range docBlocks(t, "sh") {
		for _, line := range strings.Split(block, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), program+" "); ok {
				return rest
			}
		}
	}
	t.Fatalf("docs/deployment.md has no sh line running %s", program)
	return ""
}

// withPorts replaces the doc's node addresses (127.0.0.1:8081 and on) with
// those of nodes, and its listening address 127.0.0.1:8080 with lbPort's.
func withPorts(t testing.TB, conf string, nodes []*Node, lbPort int) string {
	t.Helper()
	if len(nodes) > 3 {
		t.Fatal("the doc's configurations list three nodes")
	}
	for i, n := range nodes {
		conf = strings.ReplaceAll(conf, fmt.Sprintf("127.0.0.1:%d", 8081+i), fmt.Sprintf("127.0.0.1:%d", n.Port))
	}
	return strings.ReplaceAll(conf, "127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", lbPort))
}

// LoadBalancer is nginx or HAProxy, started with docs/deployment.md's
// configuration in front of nodes.
type LoadBalancer struct {
	Port int
	proc *Process
}

// WSURL is the WebSocket endpoint through the load balancer.
func (lb *LoadBalancer) WSURL() string { return fmt.Sprintf("ws://127.0.0.1:%d/ws", lb.Port) }

// StartNginx runs nginx in front of nodes, with the doc's configuration.
func StartNginx(t testing.TB, nodes []*Node) *LoadBalancer {
	t.Helper()
	bin := need(t, "nginx")
	ng := &LoadBalancer{Port: FreePort(t)}
	conf := withPorts(t, docBlock(t, "nginx"), nodes, ng.Port)
	dir := t.TempDir()
	// nginx runs as a test's child: in the foreground, its pid file, logs
	// and temporary files in dir.
	conf = "daemon off;\npid " + filepath.Join(dir, "nginx.pid") + ";\n" +
		"error_log " + filepath.Join(dir, "error.log") + " warn;\n" + conf
	for _, tmp := range []string{"client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, tmp), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ng.proc = startProcess(t, bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
	waitListening(t, ng.Port, ng.proc, 10*time.Second)
	return ng
}
