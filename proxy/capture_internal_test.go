package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestPendingHeadersAreSwept checks that headers kept for connects that
// never completed (refused after the handler accepted them) do not pile
// up: they are swept after pendingTTL.
func TestPendingHeadersAreSwept(t *testing.T) {
	c := newCaptures(&Config{Subscribe: &Endpoint{URL: "http://x", Cookies: []string{"sid"}}})
	old := time.Now().Add(-2 * pendingTTL)
	for _, id := range []string{"a", "b", "c"} {
		c.pending[id] = pendingHeader{http.Header{}, old}
	}
	c.keep("d", http.Header{})
	if len(c.pending) != 1 {
		t.Fatalf("%d pending after the sweep, want 1 (the new one)", len(c.pending))
	}
}
