package webhook_test

import (
	"errors"
	"testing"
	"time"

	"github.com/heraldrt/herald/webhook"
)

// TestVerify checks Sign and Verify together, and every refusal.
func TestVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"events":[]}`)
	now := time.Unix(1767225600, 0)
	h := webhook.Sign(secret, now, body)
	if err := webhook.Verify(secret, h, body, now.Add(time.Minute)); err != nil {
		t.Fatalf("valid signature: %v", err)
	}
	// A rotated secret: the receiver may get several v1 values.
	if err := webhook.Verify(secret, "t=1767225600,v1=00,"+h[len("t=1767225600,"):], body, now); err != nil {
		t.Fatalf("two v1 values: %v", err)
	}
	for name, tc := range map[string]struct {
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		"wrong secret": {[]byte("another-secret-another-secret"), h, body, now, webhook.ErrBadSignature},
		"changed body": {secret, h, []byte(`{"events":[{}]}`), now, webhook.ErrBadSignature},
		"replayed":     {secret, h, body, now.Add(6 * time.Minute), webhook.ErrStale},
		"from future":  {secret, h, body, now.Add(-6 * time.Minute), webhook.ErrStale},
		"no header":    {secret, "", body, now, webhook.ErrNoSignature},
		"garbage":      {secret, "t=x,v1", body, now, webhook.ErrNoSignature},
	} {
		if err := webhook.Verify(tc.secret, tc.header, tc.body, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}
