package herald_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/uring"
	"github.com/prometheus/client_golang/prometheus"
)

// TestSendPathIsChosenAtStartAndShown: Config.IOUring picks the send path,
// herald_send_path shows which, and on the io_uring path a publication
// reaches its subscriber through a ring submission, which the send
// counters count.
func TestSendPathIsChosenAtStartAndShown(t *testing.T) {
	for _, tc := range []struct{ mode, path, other string }{
		{"on", "io_uring", "write"},
		{"off", "write", "io_uring"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if tc.mode == "on" {
				probe, err := herald.New(herald.Config{IOUring: "on", Registry: prometheus.NewRegistry()})
				if errors.Is(err, uring.ErrUnavailable) {
					if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
						t.Fatalf("io_uring unavailable: %v", err)
					}
					t.Skipf("io_uring unavailable here: %v", err)
				}
				if err != nil {
					t.Fatal(err)
				}
				_ = probe.Shutdown(t.Context())
			}
			ts := startServer(t, herald.Config{Registry: reg, IOUring: tc.mode})
			if metric(t, reg, "herald_send_path", "path", tc.path) != 1 || metric(t, reg, "herald_send_path", "path", tc.other) != 0 {
				t.Fatalf("herald_send_path: %s %v, %s %v", tc.path, metric(t, reg, "herald_send_path", "path", tc.path),
					tc.other, metric(t, reg, "herald_send_path", "path", tc.other))
			}
			c := ts.dial(t)
			subscribe(t, c, map[string]any{"channel": "p"})
			c.Call(map[string]any{"op": "publish", "channel": "p", "data": 1})
			if _, err := c.NextPush("pub", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			// The client may read a send before the round that made it
			// has counted it: wait for the counters to settle.
			var sends, rounds float64
			for deadline := time.Now().Add(10 * time.Second); ; {
				sends = metric(t, reg, "herald_send_ring_sends_total")
				rounds = metric(t, reg, "herald_send_ring_submissions_total")
				if tc.mode != "on" || (sends >= 1 && rounds >= 1 && rounds <= sends) || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if tc.mode == "on" && (sends < 1 || rounds < 1 || rounds > sends) {
				t.Errorf("io_uring path: %v sends in %v submissions after a reply and a publication", sends, rounds)
			}
			if tc.mode == "off" && (sends != 0 || rounds != 0) {
				t.Errorf("write path: %v ring sends, %v submissions", sends, rounds)
			}
		})
	}
}

// TestIOUringSettingRejectsUnknownValues: a typo is an error at start,
// not a silent fallback.
func TestIOUringSettingRejectsUnknownValues(t *testing.T) {
	if _, err := herald.New(herald.Config{IOUring: "yes", Registry: prometheus.NewRegistry()}); err == nil {
		t.Fatal(`IOUring "yes" was accepted`)
	}
}
