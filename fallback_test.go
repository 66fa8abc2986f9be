package herald_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/streamtest"
)

// fallbacks runs f once per fallback transport.
func fallbacks(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range []string{streamtest.Stream, streamtest.SSE} {
		t.Run(kind, func(t *testing.T) { f(t, kind) })
	}
}

// openConnected opens a stream and sends connect.
func (ts *testServer) openConnected(t *testing.T, kind string) *streamtest.Client {
	t.Helper()
	c := streamtest.Open(t, ts.base, kind)
	c.Connect()
	return c
}

// A fallback client does everything a WebSocket client does: subscribe,
// receive publications, publish, call RPC; and the metrics count it by
// transport.
func TestFallbackCarriesProtocol(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		ts := startServer(t, herald.Config{})
		ts.node.OnRPC("echo", func(_ context.Context, _ *herald.Session, data json.RawMessage) (any, error) {
			return data, nil
		})
		c := ts.openConnected(t, kind)
		if r := c.Call(map[string]any{"op": "subscribe", "channel": "room"}); r.Error != nil {
			t.Fatal(r.Error)
		}
		if r := c.Call(map[string]any{"op": "publish", "channel": "room", "data": map[string]any{"text": "hi\nthere"}}); r.Error != nil {
			t.Fatal(r.Error)
		}
		m, err := c.NextPush("pub", 5*time.Second)
		if err != nil || string(m.Data) != `{"text":"hi\nthere"}` {
			t.Fatalf("pub: %+v %v", m, err)
		}
		if r := c.Call(map[string]any{"op": "rpc", "method": "echo", "data": 7}); r.Error != nil || !strings.Contains(string(r.Result), "7") {
			t.Fatalf("rpc: %+v", r)
		}
		want := map[string]string{streamtest.Stream: "http-stream", streamtest.SSE: "sse"}[kind]
		if got := metricLine(t, ts, `herald_transport_connections{transport="`+want+`"}`); got != "1" {
			t.Fatalf("herald_transport_connections for %s: %q, want 1", want, got)
		}
	})
}

// metricLine returns the value of one series of the node's metrics.
func metricLine(t *testing.T, ts *testServer, series string) string {
	t.Helper()
	rec := &recorder{header: http.Header{}}
	req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
	ts.node.MetricsHandler().ServeHTTP(rec, req)
	for _, line := range strings.Split(rec.body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

type recorder struct {
	header http.Header
	body   strings.Builder
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(int)             {}

// Commands need the stream's secret: a POST with another is refused and
// runs nothing.
func TestFallbackCommandsNeedTheSecret(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		ts := startServer(t, herald.Config{})
		c := ts.openConnected(t, kind)
		if st := c.Post(c.Session, strings.Repeat("0", len(c.Secret)), 2, `{"op":"subscribe","id":99,"channel":"x"}`); st != http.StatusForbidden {
			t.Fatalf("wrong secret: status %d, want 403", st)
		}
		if st := c.Post(c.Session, "", 2, `{"op":"subscribe","id":99,"channel":"x"}`); st != http.StatusForbidden {
			t.Fatalf("no secret: status %d, want 403", st)
		}
		if r := c.Call(map[string]any{"op": "rpc", "method": "none"}); r.Error == nil {
			t.Fatal("rpc to an unknown method succeeded")
		}
		if m, err := c.Next(200 * time.Millisecond); err == nil {
			t.Fatalf("the refused command ran: %+v", m)
		}
	})
}

// POSTs run in seq order whatever order they arrive in, and a repeated seq
// (a retried POST) runs once.
func TestFallbackCommandsRunInSeqOrderOnce(t *testing.T) {
	ts := startServer(t, herald.Config{})
	c := ts.openConnected(t, streamtest.Stream) // seq 1 was connect
	for _, p := range []struct {
		seq uint64
		cmd string
	}{
		{3, `{"op":"rpc","id":3,"method":"m"}`},
		{2, `{"op":"rpc","id":2,"method":"m"}`},
		{2, `{"op":"rpc","id":2,"method":"m"}`},
		{4, `{"op":"rpc","id":4,"method":"m"}` + "\n" + `{"op":"rpc","id":5,"method":"m"}`},
	} {
		if st := c.Post(c.Session, c.Secret, p.seq, p.cmd); st != http.StatusNoContent {
			t.Fatalf("seq %d: status %d", p.seq, st)
		}
	}
	for want := uint64(2); want <= 5; want++ {
		m, err := c.Next(5 * time.Second)
		if err != nil || m.ID != want {
			t.Fatalf("want the reply to %d, got %+v %v", want, m, err)
		}
	}
	if m, err := c.Next(200 * time.Millisecond); err == nil {
		t.Fatalf("a repeated POST ran again: %+v", m)
	}
}

// A POST larger than the message size limit is refused with 413.
func TestFallbackCommandSizeLimit(t *testing.T) {
	ts := startServer(t, herald.Config{MaxMessageSize: 1024})
	c := ts.openConnected(t, streamtest.Stream)
	big := `{"op":"send","data":"` + strings.Repeat("x", 2000) + `"}`
	if st := c.Post(c.Session, c.Secret, 2, big); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", st)
	}
}

// The streams' content types and headers are what browsers and proxies
// need to pass each message on at once.
func TestFallbackStreamHeaders(t *testing.T) {
	ts := startServer(t, herald.Config{})
	for path, ctype := range map[string]string{"/stream": "application/x-ndjson", "/sse": "text/event-stream"} {
		resp, err := http.Get(ts.base + path)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, ctype) || resp.Header.Get("X-Accel-Buffering") != "no" {
			t.Errorf("%s: Content-Type %q, X-Accel-Buffering %q", path, got, resp.Header.Get("X-Accel-Buffering"))
		}
		buf := make([]byte, 200)
		n, _ := io.ReadAtLeast(resp.Body, buf, 10)
		if path == "/sse" && !strings.Contains(string(buf[:n]), "event: session\ndata: {\"session\":") {
			t.Errorf("sse hello: %q", buf[:n])
		}
		resp.Body.Close()
	}
}
