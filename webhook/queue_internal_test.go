package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestReceiverDownDropsOldest checks that a receiver that stays down
// neither blocks emit nor grows the queue past QueueSize (the oldest are
// dropped and counted), and that once it is back the newest events arrive,
// retried with the same ids.
func TestReceiverDownDropsOldest(t *testing.T) {
	var up atomic.Bool
	var mu sync.Mutex
	var got []Event
	var failures atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			failures.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var b Batch
		_ = json.Unmarshal(body, &b)
		mu.Lock()
		got = append(got, b.Events...)
		mu.Unlock()
	}))
	defer rcv.Close()
	reg := prometheus.NewRegistry()
	w, err := New(Config{
		Endpoints: []Endpoint{{URL: rcv.URL, Secret: "0123456789abcdef"}},
		QueueSize: 5, BatchSize: 2, FlushDelay: time.Millisecond,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Registry: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	start := time.Now()
	for i := range 1000 {
		w.emit(UserOnline, "", string(rune('a'+i%26))+itoa(i))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("emit blocked: 1000 events took %v", d)
	}
	s := w.senders[0]
	s.mu.Lock()
	n := len(s.queue)
	s.mu.Unlock()
	if n > 5 {
		t.Fatalf("queue holds %d events, want at most 5", n)
	}
	for failures.Load() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	up.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d events after the receiver came back, want 5", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := got[len(got)-1].User; last != string(rune('a'+999%26))+"999" {
		t.Fatalf("last event is for %q, want the newest", last)
	}
	if d := gather(t, reg, "herald_webhook_dropped_total"); d < 995-2 {
		t.Fatalf("dropped %v, want about 995", d)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func gather(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				v += m.GetCounter().GetValue()
			}
		}
	}
	return v
}
