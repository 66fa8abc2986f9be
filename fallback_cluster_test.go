package herald_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker/redis"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/streamtest"
)

// startRedisNode starts a node on the Redis broker under prefix, with the
// fallback transports mounted; it skips the test without Redis.
func startRedisNode(t *testing.T, prefix string) *testServer {
	t.Helper()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second); err != nil {
		browsertest.NeedService(t, "Redis on 127.0.0.1:6379: %v", err)
	} else {
		c.Close()
	}
	b, err := redis.New("redis://127.0.0.1:6379/0", redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, herald.Config{Broker: b})
}

// Commands POSTed to a node that does not hold the stream reach the one
// that does, through the broker; with a wrong secret they reach nothing.
func TestFallbackCommandsRoutedAcrossNodes(t *testing.T) {
	prefix := "herald-fallback-test-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "") + ":"
	a := startRedisNode(t, prefix)
	b := startRedisNode(t, prefix)
	c := streamtest.Open(t, a.base, streamtest.Stream)
	c.CmdURL = b.base + "/cmd" // every POST lands on the other node
	if res := c.Connect(); res.Node != a.node.Name() {
		t.Fatalf("connected on %q, want the stream's node %q", res.Node, a.node.Name())
	}
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "room"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if _, err := b.node.Publish(context.Background(), "room", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	if m, err := c.NextPush("pub", 5*time.Second); err != nil || string(m.Data) != `{"n":1}` {
		t.Fatalf("pub: %+v %v", m, err)
	}
	if st := c.Post(c.Session, strings.Repeat("f", len(c.Secret)), 100, `{"op":"rpc","id":100,"method":"x"}`); st != http.StatusAccepted {
		t.Fatalf("forwarded POST: %d, want 202", st)
	}
	if m, err := c.Next(300 * time.Millisecond); err == nil {
		t.Fatalf("a command with a wrong secret ran: %+v", m)
	}
}
