package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldrt/herald/protocol"
)

// A JSON body sent as text/plain (what a browser's fetch sends for a string
// body) is refused with 415, and the message says which header to send.
func TestUnsupportedTypeNamesTheHeader(t *testing.T) {
	const ct = "text/plain;charset=UTF-8"
	e := errUnsupportedType(ct)
	if e.status != http.StatusUnsupportedMediaType || e.code != protocol.CodeBadRequest {
		t.Fatalf("status %d code %d, want 415 and %d", e.status, e.code, protocol.CodeBadRequest)
	}
	for _, want := range []string{"Content-Type: application/json", `"` + ct + `"`} {
		if !strings.Contains(e.msg, want) {
			t.Errorf("message %q does not contain %q", e.msg, want)
		}
	}
}
