package proxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/proxy"
)

// TestRefresh checks the refresh event: the backend gets the connection's
// client, user and token, its expire_at becomes the connection's new
// expiry, and its error refuses the refresh (101 closes with 3500, as a
// bad token does).
func TestRefresh(t *testing.T) {
	now := time.Now().Unix()
	got := make(chan proxy.RefreshRequest, 2)
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/connect":
			fmt.Fprintf(w, `{"result":{"user":"ann","expire_at":%d}}`, now+3600)
		case "/refresh":
			var req proxy.RefreshRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			got <- req
			if req.Token != "session-2" {
				io.WriteString(w, `{"error":{"code":101,"message":"session ended"}}`)
				return
			}
			fmt.Fprintf(w, `{"result":{"expire_at":%d}}`, now+7200)
		}
	})
	_, wsURL, reg := node(t, proxy.Config{Connect: ep(url + "/connect"), Refresh: ep(url + "/refresh")})
	c := wstest.Dial(t, wsURL)
	if res := c.Connect(); res.User != "ann" {
		t.Fatalf("connect: %+v", res)
	}

	r := c.Call(map[string]any{"op": "refresh", "token": "session-2"})
	var res struct {
		Expires int64 `json:"expires"`
	}
	if r.Error != nil || json.Unmarshal(r.Result, &res) != nil || res.Expires != now+7200 {
		t.Fatalf("refresh: %s %v, want expires %d", r.Result, r.Error, now+7200)
	}
	if req := <-got; req.Client == "" || req.User != "ann" || req.Token != "session-2" {
		t.Fatalf("refresh request %+v", req)
	}

	id := c.Command(map[string]any{"op": "refresh", "token": "stale"})
	if r := c.WaitReply(id); r.Error == nil || r.Error.Code != 101 || r.Error.Message != "session ended" {
		t.Fatalf("refused refresh: %+v", r.Error)
	}
	if code := c.ExpectClose(5 * time.Second); code != 3500 {
		t.Fatalf("refused refresh closed with %d, want 3500", code)
	}
	if ok, refused := counter(t, reg, "refresh", "ok"), counter(t, reg, "refresh", "error"); ok != 1 || refused != 1 {
		t.Fatalf("refresh calls: ok %v, error %v; want 1 and 1", ok, refused)
	}
}
