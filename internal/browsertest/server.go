package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/js"
	"github.com/heraldrt/herald/protocol"
)

// ChannelsSecret signs the channel tokens of StartChannelsServer.
const ChannelsSecret = "browsertest: a secret of at least 32 bytes"

// StartChannelsServer runs the real node that web/e2e/channels.checks.mjs
// expects, for the SDK's checks in Chromium and in Node.js, and returns its
// http:// URL:
//
//   - /ws, and /herald.js (the embedded SDK);
//   - namespace "chat": history (100), presence, join and leave;
//   - namespace "vip": history (10) and presence, and subscribe, history
//     and presence only with a channel token (access: token);
//   - GET /_e2e/chantoken?channel=C&ttl=D mints a channel token for C that
//     expires after D (a Go duration; default 1h), for any user;
//   - POST /_e2e/disconnect?client=ID drops that connection with 3004;
//   - GET /_e2e/blank, an empty page to run checks in.
func StartChannelsServer(t testing.TB) string {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{HMACSecret: []byte(ChannelsSecret)})
	if err != nil {
		t.Fatal(err)
	}
	token := herald.Permissions{Subscribe: herald.AccessToken, History: herald.AccessToken, Presence: herald.AccessToken}
	node, err := herald.New(herald.Config{
		ShutdownWindow:       50 * time.Millisecond,
		ChannelTokenVerifier: v.ChannelTokenVerifier(),
		Namespaces: map[string]herald.ChannelOptions{
			"chat": {HistorySize: 100, Presence: true, JoinLeave: true},
			"vip":  {HistorySize: 10, Presence: true, Permissions: token},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	mux.Handle("/herald.js", js.Handler())
	mux.HandleFunc("GET /_e2e/blank", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>herald.js channel checks</title>")
	})
	mux.HandleFunc("GET /_e2e/chantoken", func(w http.ResponseWriter, r *http.Request) {
		ttl := time.Hour
		if s := r.URL.Query().Get("ttl"); s != "" {
			d, err := time.ParseDuration(s) // not the enclosing err: handlers run at once
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			ttl = d
		}
		tok, err := auth.Mint([]byte(ChannelsSecret), "HS256", auth.Claims{
			Channel: r.URL.Query().Get("channel"), Expires: time.Now().Add(ttl),
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		fmt.Fprint(w, tok)
	})
	mux.HandleFunc("POST /_e2e/disconnect", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if code == 0 {
			code = protocol.CloseForceReconnect
		}
		if err := node.Disconnect(r.Context(), "", r.URL.Query().Get("client"), code, "e2e test"); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := node.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return hs.URL
}
