package websocket

import (
	"net/http"
	"testing"
	"time"
)

// Stopping a server right after starting it must not hang (nbio v1.6.8
// loses a Stop that arrives before its poller goroutines run).
func TestStopRightAfterStart(t *testing.T) {
	SetLibraryLogger(nil)
	for i := 0; i < 20; i++ {
		s, err := NewServer(Config{}, func(*http.Request) (*Admission, int, string) { return nil, 503, "" })
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { s.Stop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Stop hung on round %d", i)
		}
	}
}
