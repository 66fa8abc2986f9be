package nats_test

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

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldrt/herald/broker/nats"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/pause"
)

// sharedURL is the NATS the tests share with other work on the machine;
// HERALD_NATS_URL overrides it. Tests touch only streams, buckets and
// subjects under their own random prefix there, and delete them after.
func sharedURL() string {
	if u := os.Getenv("HERALD_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// needNATS skips the test when url does not answer with JetStream, or
// fails it under HERALD_REQUIRE_SERVICES=1.
func needNATS(t testing.TB, url string) {
	t.Helper()
	nc, err := natsgo.Connect(url, natsgo.Timeout(time.Second))
	if err == nil {
		defer nc.Close()
		var js jetstream.JetStream
		if js, err = jetstream.New(nc); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err = js.AccountInfo(ctx)
		}
	}
	if err != nil {
		browsertest.NeedService(t, "nats broker test: no NATS with JetStream at %s (%v); start one (apt-get install nats-server; nats-server -js) or set HERALD_NATS_URL", url, err)
	}
}

// testPrefix returns a fresh prefix and deletes its streams and bucket
// after the test.
func testPrefix(t testing.TB, url string) string {
	t.Helper()
	prefix := fmt.Sprintf("heraldtest_%x", rand.Uint64())
	t.Cleanup(func() { deleteStore(url, prefix) })
	return prefix
}

// deleteStore removes what a broker with prefix created on url.
func deleteStore(url, prefix string) {
	nc, err := natsgo.Connect(url, natsgo.Timeout(time.Second))
	if err != nil {
		return // the server is gone (a fault test stopped it): nothing to clean
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range []string{prefix + "_history", prefix + "_keys", "KV_" + prefix + "_presence"} {
		_ = js.DeleteStream(ctx, s)
	}
}

// newBroker returns a broker on url with short timeouts, closed after the
// test.
func newBroker(t testing.TB, url, prefix string, opts ...func(*nats.Options)) *nats.Broker {
	t.Helper()
	o := nats.Options{Prefix: prefix, Timeout: time.Second, PresenceTTL: 1500 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	b, err := nats.New(url, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

// ownNATS is a nats-server the test runs itself, to stop, kill and
// restart: the shared NATS is never disturbed.
type ownNATS struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
}

// startOwnNATS starts a nats-server with JetStream on a free port, its
// store in a temporary directory.
func startOwnNATS(t testing.TB) *ownNATS {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nats-server"); err2 != nil {
			browsertest.NeedService(t, "nats fault test: nats-server is not installed (apt-get install nats-server)")
		}
		bin = "/usr/sbin/nats-server"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &ownNATS{t: t, port: port, dir: t.TempDir()}
	s.start(bin)
	t.Cleanup(s.kill)
	return s
}

func (s *ownNATS) url() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

func (s *ownNATS) start(bin string) {
	s.t.Helper()
	s.cmd = exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-sd", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start nats-server: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		nc, err := natsgo.Connect(s.url(), natsgo.Timeout(200*time.Millisecond))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server on port %d did not start: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server at once (SIGKILL).
func (s *ownNATS) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a stopped process must run to die
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *ownNATS) stop() {
	if err := pause.Stop(s.cmd.Process.Pid); err != nil {
		s.t.Fatal(err)
	}
}
func (s *ownNATS) cont() { _ = pause.Resume(s.cmd.Process.Pid) }

// restart kills the server and starts it again; with wipe, without its
// store (JetStream lost everything).
func (s *ownNATS) restart(wipe bool) {
	s.t.Helper()
	bin := s.cmd.Path
	s.kill()
	if wipe {
		if err := os.RemoveAll(s.dir); err != nil {
			s.t.Fatal(err)
		}
		s.dir = s.t.TempDir()
	}
	s.start(bin)
}
