package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/heraldrt/herald/broker/redis"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/pause"
	"github.com/heraldrt/herald/internal/redistest"
)

// sharedURL is the Redis the tests share with other work on the machine;
// HERALD_REDIS_URL overrides it. Tests touch only keys under their own
// random prefix there.
func sharedURL() string {
	if u := os.Getenv("HERALD_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379"
}

// needRedis skips the test when url does not answer, or fails it under
// HERALD_REQUIRE_SERVICES=1.
func needRedis(t testing.TB, url string) {
	t.Helper()
	b, err := redis.New(url, redis.Options{Prefix: "herald-probe"})
	if err == nil {
		err = b.Ping(context.Background())
		_ = b.Close(context.Background())
	}
	if err != nil {
		browsertest.NeedService(t, "redis broker test: no Redis at %s (%v); start one (apt-get install redis-server) or set HERALD_REDIS_URL", url, err)
	}
}

// testPrefix returns a fresh key prefix and deletes its keys after the test.
func testPrefix(t testing.TB, url string) string {
	t.Helper()
	prefix := fmt.Sprintf("heraldtest-%x", rand.Uint64())
	t.Cleanup(func() { deleteKeys(t, url, prefix) })
	return prefix
}

func deleteKeys(_ testing.TB, url, prefix string) { redistest.DeleteKeys(hostOf(url), prefix+":*") }

// hostOf returns host:port of a plain redis://host:port URL.
func hostOf(url string) string { return url[len("redis://"):] }

// newBroker returns a broker on url with short timeouts, closed after the
// test.
func newBroker(t testing.TB, url, prefix string, opts ...func(*redis.Options)) *redis.Broker {
	t.Helper()
	o := redis.Options{Prefix: prefix, Timeout: time.Second, PresenceTTL: 1500 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	b, err := redis.New(url, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

// ownRedis is a redis-server the test runs itself, to stop, kill and
// restart: the shared Redis is never disturbed.
type ownRedis struct {
	t    testing.TB
	port int
	args []string // the arguments of redis-server, when not the defaults
	cmd  *exec.Cmd
}

// startOwnRedis starts a redis-server without persistence on a free port,
// with more arguments args.
func startOwnRedis(t testing.TB, args ...string) *ownRedis {
	t.Helper()
	return startOwnRedisWith(t, func(port int) []string {
		return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--logfile", ""}, args...)
	})
}

// startOwnRedisWith starts redis-server on a free port with the arguments
// args gives for that port (a config file and --sentinel, say).
func startOwnRedisWith(t testing.TB, args func(port int) []string) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		browsertest.NeedService(t, "redis fault test: redis-server is not installed (apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &ownRedis{t: t, port: port}
	r.args = args(port)
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *ownRedis) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) }

func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", r.args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	// Generous: on a loaded two-core machine a redis-server (three, for
	// the cluster test) took more than 5 s to listen.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on port %d did not start: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server at once (SIGKILL: no chance to save anything).
func (r *ownRedis) kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGCONT) // a stopped process must run to die cleanly
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

func (r *ownRedis) stop() {
	if err := pause.Stop(r.cmd.Process.Pid); err != nil {
		r.t.Fatal(err)
	}
}
func (r *ownRedis) cont() { _ = pause.Resume(r.cmd.Process.Pid) }
func (r *ownRedis) restart() {
	r.kill()
	r.start()
}

// do runs one command on the server directly.
func (r *ownRedis) do(args ...string) error {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{hostOf(r.url())}, DisableCache: true})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Do(ctx, c.B().Arbitrary(args...).Build()).Error()
}
