package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/webhook"
)

// TestServeWebhooks: --webhook-url with the secret from the environment:
// a subscription's channel_occupied and channel_vacated arrive, signed.
func TestServeWebhooks(t *testing.T) {
	const secret = "webhook-secret-webhook-secret-0123"
	got := make(chan string, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte(secret), r.Header.Get(webhook.SignatureHeader), body, time.Now()); err != nil {
			got <- "bad signature: " + err.Error()
			return
		}
		var b webhook.Batch
		_ = json.Unmarshal(body, &b)
		for _, e := range b.Events {
			got <- e.Name + " " + e.Channel
		}
	}))
	defer rcv.Close()
	r := startServeEnv(t, map[string]string{"HERALD_WEBHOOK_SECRET": secret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--webhook-url", rcv.URL, "--webhook-publications", "news")
	c := wstest.Dial(t, r.url())
	c.Connect()
	if rep := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); rep.Error != nil {
		t.Fatal(rep.Error)
	}
	c.Call(map[string]any{"op": "publish", "channel": "news:1", "data": 1})
	c.Call(map[string]any{"op": "publish", "channel": "other:1", "data": 1})
	c.Call(map[string]any{"op": "unsubscribe", "channel": "news"})
	// The tracker decides occupancy on its own goroutine, so the order of
	// the publication and the occupancy events may vary.
	want := map[string]bool{"channel_occupied news": true, "publication news:1": true, "channel_vacated news": true}
	for range 3 {
		select {
		case e := <-got:
			if !want[e] {
				t.Fatalf("unexpected %q", e)
			}
			delete(want, e)
		case <-time.After(5 * time.Second):
			t.Fatalf("missing %v", want)
		}
	}
	if strings.Contains(r.logs.String(), secret) {
		t.Fatal("the logs show the webhook secret")
	}
}

// TestWebhookConfigErrors: a short secret and an unknown event are
// refused, saying why.
func TestWebhookConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"webhooks:\n  - {url: 'http://x/hook', secret: short}\n", "at least 16 bytes"},
		{"webhooks:\n  - {url: 'http://x/hook', secret: 0123456789abcdef0, events: [user_onlin]}\n", `unknown event "user_onlin"`},
		{"webhook_secret: 0123456789abcdef0\n", "need a receiver"},
	} {
		c := Defaults()
		if err := decodeYAML(strings.NewReader(tc.yaml), &c); err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if err := c.checkCombinations(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
