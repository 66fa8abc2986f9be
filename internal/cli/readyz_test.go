package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/memory"
)

// pingFailing is the memory broker with a switch that makes Ping fail, as a
// broker whose server went away would.
type pingFailing struct {
	*memory.Broker
	down atomic.Bool
}

// Ping fails while the switch is down.
func (p *pingFailing) Ping(ctx context.Context) error {
	if p.down.Load() {
		return broker.ErrUnavailable
	}
	return p.Broker.Ping(ctx)
}

// TestReadyzFollowsBrokerAndDrain: /readyz answers 503 while the broker
// is down and once the node drains; /healthz stays 200.
func TestReadyzFollowsBrokerAndDrain(t *testing.T) {
	b := &pingFailing{Broker: memory.New()}
	node, err := herald.New(herald.Config{Broker: b, ShutdownWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(adminRoutes(node, false))
	defer srv.Close()
	status := func() int {
		code, _ := get(t, srv.URL+"/readyz")
		return code
	}
	if s := status(); s != http.StatusOK {
		t.Fatalf("ready: %d", s)
	}
	b.down.Store(true)
	if s := status(); s != http.StatusServiceUnavailable {
		t.Fatalf("broker down: %d", s)
	}
	b.down.Store(false)
	if err := node.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != http.StatusServiceUnavailable {
		t.Fatalf("after shutdown: %d", s)
	}
	if code, _ := get(t, srv.URL+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
}
