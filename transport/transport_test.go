package transport

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRefuse(t *testing.T) {
	for _, tc := range []struct {
		status, want int
		retry        bool
	}{
		{0, http.StatusServiceUnavailable, true},
		{http.StatusTooManyRequests, http.StatusTooManyRequests, true},
		{http.StatusForbidden, http.StatusForbidden, false},
	} {
		w := httptest.NewRecorder()
		Refuse(w, tc.status, "no")
		if w.Code != tc.want || (w.Header().Get("Retry-After") == "1") != tc.retry {
			t.Errorf("Refuse(%d): %d, Retry-After %q", tc.status, w.Code, w.Header().Get("Retry-After"))
		}
	}
}
