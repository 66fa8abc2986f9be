package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/proxy"
)

// TestPublishBinary checks that the publish event carries a binary
// publication as base64 marked "binary", and that the backend may keep
// it, rewrite it as bytes or as JSON, and that a rewrite that is not
// base64 gives the client 112.
func TestPublishBinary(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	answers := map[string]string{
		"keep":    `{"result":{}}`,
		"bytes":   `{"result":{"data":"AQI=","binary":true}}`,
		"json":    `{"result":{"data":{"text":"now JSON"}}}`,
		"garbage": `{"result":{"data":"not base64!","binary":true}}`,
	}
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		var req proxy.ChannelRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		seen = append(seen, string(req.Data))
		if !req.Binary {
			seen[len(seen)-1] += " (not marked binary)"
		}
		mu.Unlock()
		io.WriteString(w, answers[req.Key])
	})
	_, wsURL, _ := node(t, proxy.Config{Publish: ep(url)})
	c := wstest.Dial(t, wsURL)
	c.Connect()
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "files"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	publish := func(key string) protocol.ReplyFrame {
		return c.Call(map[string]any{"op": "publish", "channel": "files", "data": "yv4=", "binary": true, "key": key})
	}
	for _, tc := range []struct {
		key, data string
		binary    bool
	}{
		{"keep", `"yv4="`, true}, // the JSON client's wire form: base64
		{"bytes", `"AQI="`, true},
		{"json", `{"text":"now JSON"}`, false},
	} {
		if r := publish(tc.key); r.Error != nil {
			t.Fatalf("%s: %v", tc.key, r.Error)
		}
		p, err := c.NextPush("pub", 5*time.Second)
		if err != nil || string(p.Data) != tc.data || p.Binary != tc.binary {
			t.Fatalf("%s: publication %q binary=%v (%v), want %q binary=%v", tc.key, p.Data, p.Binary, err, tc.data, tc.binary)
		}
	}
	if r := publish("garbage"); r.Error == nil || r.Error.Code != 112 {
		t.Fatalf("garbage rewrite: %+v, want error 112", r.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if s != `"yv4="` {
			t.Fatalf("the backend saw %s, want \"yv4=\" marked binary", s)
		}
	}
}
