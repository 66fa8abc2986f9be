package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/api"
	"github.com/heraldrt/herald/internal/syncbuf"
	"github.com/heraldrt/herald/internal/wstest"
)

const testKey = "test-key-0123456789"

// server is a Node with its WebSocket endpoint at /ws and the API at /api/
// on a real HTTP server.
type server struct {
	node *herald.Node
	http *httptest.Server
	logs *syncbuf.Buffer
}

func start(t *testing.T, cfg herald.Config, acfg api.Config) *server {
	t.Helper()
	cfg.ShutdownWindow = 50 * time.Millisecond
	node, err := herald.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	acfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	mux.Handle("/api/", api.New(node, acfg))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Shutdown(ctx)
	})
	return &server{node: node, http: hs, logs: logs}
}

// startKeyed starts a server whose API key is testKey.
func startKeyed(t *testing.T, cfg herald.Config) *server {
	t.Helper()
	return start(t, cfg, api.Config{Key: testKey})
}

// dial connects a raw WebSocket client and sends connect with fields.
func (s *server) dial(t *testing.T, fields ...map[string]any) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, wstest.WSURL(s.http.URL, "/ws"))
	c.Connect(fields...)
	return c
}

func (s *server) subscribe(t *testing.T, c *wstest.Client, channel string) {
	t.Helper()
	if r := c.Call(map[string]any{"op": "subscribe", "channel": channel}); r.Error != nil {
		t.Fatalf("subscribe %s: %v", channel, r.Error)
	}
}

// answer is one HTTP answer of the API.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errorBody decodes an error answer, failing the test when it is not one.
func (a answer) err(t *testing.T) (int, string) {
	t.Helper()
	var e struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == nil {
		t.Fatalf("status %d: not an error answer: %s (%v)", a.status, a.body, err)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error answer has Content-Type %q", ct)
	}
	return e.Error.Code, e.Error.Message
}

// expectError fails unless a is an error answer with status and code, and
// returns its message.
func (a answer) expectError(t *testing.T, status, code int) string {
	t.Helper()
	got, msg := a.err(t)
	if a.status != status || got != code {
		t.Fatalf("got status %d code %d (%q), want %d code %d", a.status, got, msg, status, code)
	}
	return msg
}

// decode fails unless a is a 200 and decodes its body into v.
func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// do sends a request to the API path with headers.
func (s *server) do(t *testing.T, httpMethod, path string, body io.Reader, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(httpMethod, s.http.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// call posts body to /api/<method> with the test key.
func (s *server) call(t *testing.T, method, body string) answer {
	t.Helper()
	return s.do(t, http.MethodPost, "/api/"+method, strings.NewReader(body),
		map[string]string{"X-API-Key": testKey, "Content-Type": "application/json"})
}

func TestNoKeyConfigured(t *testing.T) {
	s := start(t, herald.Config{}, api.Config{})
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
	}{
		{"no key sent", http.MethodPost, "/api/info", nil},
		{"some key sent", http.MethodPost, "/api/publish", map[string]string{"X-API-Key": "anything"}},
		{"empty bearer", http.MethodPost, "/api/info", map[string]string{"Authorization": "Bearer "}},
		{"GET", http.MethodGet, "/api/info", nil},
		{"unknown method", http.MethodPost, "/api/nope", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := s.do(t, tc.method, tc.path, strings.NewReader(`{}`), tc.header)
			msg := a.expectError(t, http.StatusUnauthorized, 101)
			if !strings.Contains(msg, "api.Config.Key") {
				t.Fatalf("message does not say how to set a key: %q", msg)
			}
			if a.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestAuth(t *testing.T) {
	s := startKeyed(t, herald.Config{})
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"missing", nil, http.StatusUnauthorized},
		{"wrong X-API-Key", map[string]string{"X-API-Key": "wrong"}, http.StatusUnauthorized},
		{"key with a suffix", map[string]string{"X-API-Key": testKey + "x"}, http.StatusUnauthorized},
		{"wrong bearer", map[string]string{"Authorization": "Bearer wrong"}, http.StatusUnauthorized},
		{"basic scheme", map[string]string{"Authorization": "Basic " + testKey}, http.StatusUnauthorized},
		{"X-API-Key", map[string]string{"X-API-Key": testKey}, http.StatusOK},
		{"Bearer", map[string]string{"Authorization": "Bearer " + testKey}, http.StatusOK},
		{"bearer lower case", map[string]string{"Authorization": "bearer " + testKey}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := s.do(t, http.MethodPost, "/api/info", nil, tc.header)
			if tc.status == http.StatusOK {
				var res struct{ Nodes []herald.NodeInfo }
				a.decode(t, &res)
				return
			}
			a.expectError(t, tc.status, 101)
		})
	}
	if strings.Contains(s.logs.String(), testKey) {
		t.Fatalf("the key reached the log:\n%s", s.logs.String())
	}
}

func TestPublishReachesSubscriber(t *testing.T) {
	s := startKeyed(t, herald.Config{})
	c := s.dial(t)
	s.subscribe(t, c, "x")

	var res struct {
		Offset *uint64 `json:"offset"`
		Epoch  *string `json:"epoch"`
	}
	s.call(t, "publish", `{"channel":"x","data":{"text":"hi"}}`).decode(t, &res)
	if res.Offset == nil || res.Epoch == nil {
		t.Fatal("publish result lacks offset or epoch")
	}
	m, err := c.NextPush("pub", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Channel != "x" || string(m.Data) != `{"text":"hi"}` {
		t.Fatalf("got %s on %q", m.Data, m.Channel)
	}
	if !strings.Contains(s.logs.String(), "status=200") {
		t.Fatalf("no access log line:\n%s", s.logs.String())
	}
}

func TestIdempotentPublish(t *testing.T) {
	s := startKeyed(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	type result struct {
		Offset uint64 `json:"offset"`
		Epoch  string `json:"epoch"`
	}
	var first, again, other result
	s.call(t, "publish", `{"channel":"x","data":1,"key":"k1"}`).decode(t, &first)
	s.call(t, "publish", `{"channel":"x","data":1,"key":"k1"}`).decode(t, &again)
	s.call(t, "publish", `{"channel":"x","data":2,"key":"k2"}`).decode(t, &other)
	if first.Offset != 1 || first.Epoch == "" {
		t.Fatalf("first publish: %+v", first)
	}
	if again != first {
		t.Fatalf("repeated key: got %+v, want %+v", again, first)
	}
	if other.Offset != 2 {
		t.Fatalf("new key: got %+v, want offset 2", other)
	}

	var h struct {
		Offset       uint64
		Epoch        string
		Publications []struct {
			Offset uint64
			Data   json.RawMessage
		}
	}
	s.call(t, "history", `{"channel":"x"}`).decode(t, &h)
	if h.Offset != 2 || h.Epoch != first.Epoch || len(h.Publications) != 2 {
		t.Fatalf("history: %+v", h)
	}
	s.call(t, "history", `{"channel":"x","since":{"offset":1,"epoch":"`+first.Epoch+`"}}`).decode(t, &h)
	if len(h.Publications) != 1 || string(h.Publications[0].Data) != "2" {
		t.Fatalf("history since 1: %+v", h)
	}
}

func TestHistoryWithoutHistory(t *testing.T) {
	s := startKeyed(t, herald.Config{})
	msg := s.call(t, "history", `{"channel":"x"}`).expectError(t, http.StatusBadRequest, 108)
	if !strings.Contains(msg, "history") {
		t.Fatalf("message: %q", msg)
	}
}

func TestPublicationTooLarge(t *testing.T) {
	s := startKeyed(t, herald.Config{MaxPublicationSize: 100})
	big := `"` + strings.Repeat("a", 200) + `"`
	s.call(t, "publish", `{"channel":"x","data":`+big+`}`).expectError(t, http.StatusRequestEntityTooLarge, 106)

	var res struct {
		Results []struct {
			Channel string
			Error   *herald.Error
		}
	}
	s.call(t, "broadcast", `{"channels":["a","b"],"data":`+big+`}`).decode(t, &res)
	if len(res.Results) != 2 {
		t.Fatalf("results: %+v", res)
	}
	for _, r := range res.Results {
		if r.Error == nil || r.Error.Code != 106 {
			t.Fatalf("%s: want error 106, got %+v", r.Channel, r.Error)
		}
	}
}

func TestBroadcast(t *testing.T) {
	s := startKeyed(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	a, b := s.dial(t), s.dial(t)
	s.subscribe(t, a, "a")
	s.subscribe(t, b, "b")

	var res struct {
		Results []struct {
			Channel string
			Offset  uint64
			Error   *herald.Error
		}
	}
	s.call(t, "broadcast", `{"channels":["a","b"],"data":"news"}`).decode(t, &res)
	if len(res.Results) != 2 {
		t.Fatalf("results: %+v", res)
	}
	for i, want := range []string{"a", "b"} {
		r := res.Results[i]
		if r.Channel != want || r.Offset != 1 || r.Error != nil {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	for name, c := range map[string]*wstest.Client{"a": a, "b": b} {
		m, err := c.NextPush("pub", time.Second)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Channel != name || string(m.Data) != `"news"` {
			t.Fatalf("%s: got %s on %q", name, m.Data, m.Channel)
		}
	}

	msg := s.call(t, "broadcast", `{"channels":["a",""],"data":1}`).expectError(t, http.StatusBadRequest, 107)
	if !strings.Contains(msg, "channels[1]") {
		t.Fatalf("message does not name the field: %q", msg)
	}
	s.call(t, "broadcast", `{"data":1}`).expectError(t, http.StatusBadRequest, 107)
}

func TestBadRequests(t *testing.T) {
	s := startKeyed(t, herald.Config{})
	for _, tc := range []struct {
		name, method, body string
		mention            string // the message must contain this
	}{
		{"missing channel", "publish", `{"data":1}`, `"channel"`},
		{"empty channel", "publish", `{"channel":"","data":1}`, `"channel"`},
		{"empty body", "publish", ``, `"channel"`},
		{"missing data", "publish", `{"channel":"x"}`, `"data"`},
		{"channel not a string", "publish", `{"channel":5,"data":1}`, `"channel"`},
		{"invalid JSON", "publish", `{"channel":"x","data":{]}`, "JSON"},
		{"truncated JSON", "publish", `{"channel":"x","data":`, "JSON"},
		{"trailing data", "publish", `{"channel":"x","data":1} {}`, "JSON"},
		{"not an object", "publish", `["x"]`, "object"},
		{"too deep", "publish", `{"channel":"x","data":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "deeper"},
		{"history without channel", "history", `{}`, `"channel"`},
		{"history negative offset", "history", `{"channel":"x","since":{"offset":-1}}`, "since.offset"},
		{"history negative limit", "history", `{"channel":"x","limit":-1}`, `"limit"`},
		{"disconnect without target", "disconnect", `{}`, `"user"`},
		{"disconnect bad code", "disconnect", `{"user":"u","code":1000}`, `"code"`},
		{"disconnect long reason", "disconnect", `{"user":"u","reason":"` + strings.Repeat("r", 200) + `"}`, `"reason"`},
		{"channels bad pattern", "channels", `{"pattern":"["}`, "pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := s.call(t, tc.method, tc.body).expectError(t, http.StatusBadRequest, 107)
			if !strings.Contains(msg, tc.mention) {
				t.Fatalf("message %q does not mention %s", msg, tc.mention)
			}
		})
	}

	t.Run("null data is data", func(t *testing.T) {
		s.call(t, "publish", `{"channel":"x","data":null}`).decode(t, &struct{}{})
	})
	t.Run("unknown fields are accepted", func(t *testing.T) {
		s.call(t, "publish", `{"channel":"x","data":1,"future":true}`).decode(t, &struct{}{})
	})
	t.Run("wrong Content-Type", func(t *testing.T) {
		a := s.do(t, http.MethodPost, "/api/publish", strings.NewReader(`{"channel":"x","data":1}`),
			map[string]string{"X-API-Key": testKey, "Content-Type": "text/plain;charset=UTF-8"})
		if msg := a.expectError(t, http.StatusUnsupportedMediaType, 107); !strings.Contains(msg, "Content-Type: application/json") {
			t.Errorf("415 message %q does not name the header to send", msg)
		}
	})
	t.Run("curl's default Content-Type", func(t *testing.T) {
		a := s.do(t, http.MethodPost, "/api/publish", strings.NewReader(`{"channel":"x","data":1}`),
			map[string]string{"X-API-Key": testKey, "Content-Type": "application/x-www-form-urlencoded"})
		a.decode(t, &struct{}{})
	})
	t.Run("no Content-Type", func(t *testing.T) {
		a := s.do(t, http.MethodPost, "/api/publish", strings.NewReader(`{"channel":"x","data":1}`),
			map[string]string{"X-API-Key": testKey})
		a.decode(t, &struct{}{})
	})
	t.Run("GET", func(t *testing.T) {
		a := s.do(t, http.MethodGet, "/api/publish", nil, map[string]string{"X-API-Key": testKey})
		a.expectError(t, http.StatusMethodNotAllowed, 107)
		if a.header.Get("Allow") != http.MethodPost {
			t.Fatalf("Allow: %q", a.header.Get("Allow"))
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		s.call(t, "nope", `{}`).expectError(t, http.StatusNotFound, 104)
		s.call(t, "publish/extra", `{}`).expectError(t, http.StatusNotFound, 104)
	})
}

func TestOversizedBody(t *testing.T) {
	s := start(t, herald.Config{}, api.Config{Key: testKey, MaxBodySize: 1024})
	big := `{"channel":"x","data":"` + strings.Repeat("a", 2048) + `"}`
	hdr := map[string]string{"X-API-Key": testKey}
	t.Run("with Content-Length", func(t *testing.T) {
		s.do(t, http.MethodPost, "/api/publish", strings.NewReader(big), hdr).
			expectError(t, http.StatusRequestEntityTooLarge, 106)
	})
	t.Run("chunked", func(t *testing.T) {
		// A reader of unknown length makes the client send no
		// Content-Length, so the limit is found while reading.
		body := io.MultiReader(strings.NewReader(big))
		s.do(t, http.MethodPost, "/api/publish", body, hdr).
			expectError(t, http.StatusRequestEntityTooLarge, 106)
	})
	t.Run("at the limit", func(t *testing.T) {
		fits := `{"channel":"x","data":"` + strings.Repeat("a", 1024-25) + `"}`
		if len(fits) != 1024 {
			t.Fatalf("test body is %d bytes", len(fits))
		}
		s.do(t, http.MethodPost, "/api/publish", strings.NewReader(fits), hdr).decode(t, &struct{}{})
	})
}

func TestDisconnectUser(t *testing.T) {
	s := startKeyed(t, herald.Config{})
	s.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: e.Token}, nil
	})
	alice := s.dial(t, map[string]any{"token": "alice"})
	bob := s.dial(t, map[string]any{"token": "bob"})

	a := s.call(t, "disconnect", `{"user":"alice"}`)
	if a.status != http.StatusOK || strings.TrimSpace(string(a.body)) != "{}" {
		t.Fatalf("disconnect: %d %s", a.status, a.body)
	}
	if code := alice.ExpectClose(2 * time.Second); code != 3004 {
		t.Fatalf("alice closed with %d, want 3004", code)
	}
	if d, err := alice.NextPush("disconnect", time.Millisecond); err != nil || d.Code != 3004 {
		t.Fatalf("disconnect push before the close: %+v, %v", d, err)
	}
	if r := bob.Call(map[string]any{"op": "subscribe", "channel": "still-here"}); r.Error != nil {
		t.Fatalf("bob: %v", r.Error)
	}

	// By client id, with an application code and reason.
	carol := wstest.Dial(t, wstest.WSURL(s.http.URL, "/ws"))
	id := carol.Connect(map[string]any{"token": "carol"}).Client
	s.call(t, "disconnect", `{"client":"`+id+`","code":4001,"reason":"bye"}`).decode(t, &struct{}{})
	if code := carol.ExpectClose(2 * time.Second); code != 4001 {
		t.Fatalf("carol closed with %d, want 4001", code)
	}
}

func TestChannelsAndInfo(t *testing.T) {
	s := startKeyed(t, herald.Config{})
	a, b := s.dial(t), s.dial(t)
	s.subscribe(t, a, "chat:a")
	s.subscribe(t, b, "chat:a")
	s.subscribe(t, b, "news")

	type channel struct {
		Channel     string
		Subscribers int
	}
	var res struct{ Channels []channel }
	s.call(t, "channels", `{}`).decode(t, &res)
	want := []channel{{"chat:a", 2}, {"news", 1}}
	if len(res.Channels) != 2 || res.Channels[0] != want[0] || res.Channels[1] != want[1] {
		t.Fatalf("channels: %+v, want %+v", res.Channels, want)
	}
	s.call(t, "channels", `{"pattern":"chat:*"}`).decode(t, &res)
	if len(res.Channels) != 1 || res.Channels[0] != want[0] {
		t.Fatalf("channels chat:*: %+v", res.Channels)
	}
	ans := s.call(t, "channels", `{"pattern":"none:*"}`)
	if ans.status != http.StatusOK || !bytes.Contains(ans.body, []byte(`"channels":[]`)) {
		t.Fatalf("no match: %d %s", ans.status, ans.body)
	}

	var info struct{ Nodes []herald.NodeInfo }
	s.call(t, "info", ``).decode(t, &info)
	if len(info.Nodes) != 1 {
		t.Fatalf("info: %+v", info)
	}
	n := info.Nodes[0]
	if n.Name != s.node.Name() || n.Connections != 2 || n.Channels != 2 || n.Subscriptions != 3 {
		t.Fatalf("info: %+v", n)
	}
}

func TestNodeShuttingDown(t *testing.T) {
	s := startKeyed(t, herald.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.node.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s.call(t, "publish", `{"channel":"x","data":1}`).expectError(t, http.StatusServiceUnavailable, 100)
	if !strings.Contains(s.logs.String(), "level=ERROR") {
		t.Fatalf("the cause was not logged:\n%s", s.logs.String())
	}
}

func TestMountedBehindStripPrefix(t *testing.T) {
	s := startKeyed(t, herald.Config{})
	h := http.StripPrefix("/api", api.New(s.node, api.Config{Key: testKey}))
	req := httptest.NewRequest(http.MethodPost, "/api/info", nil)
	req.Header.Set("X-API-Key", testKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"nodes"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestPresenceAndUserSubscriptions(t *testing.T) {
	s := start(t, herald.Config{Channels: herald.ChannelOptions{Presence: true}}, api.Config{Key: testKey})
	s.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: e.Token}, nil
	})
	c := wstest.Dial(t, wstest.WSURL(s.http.URL, "/ws"))
	id := c.Connect(map[string]any{"token": "alice"}).Client

	s.call(t, "subscribe", `{"user":"alice","channel":"room"}`).decode(t, &struct{}{})
	if m, err := c.NextPush("sub", 5*time.Second); err != nil || m.Channel != "room" {
		t.Fatalf("sub push %+v %v", m, err)
	}
	var p struct {
		Clients map[string]struct{ User string }
	}
	s.call(t, "presence", `{"channel":"room"}`).decode(t, &p)
	if p.Clients[id].User != "alice" {
		t.Fatalf("presence %+v", p)
	}
	s.call(t, "unsubscribe", `{"user":"alice","channel":"room"}`).decode(t, &struct{}{})
	if m, err := c.NextPush("unsub", 5*time.Second); err != nil || m.Channel != "room" {
		t.Fatalf("unsub push %+v %v", m, err)
	}
	s.call(t, "subscribe", `{"channel":"room"}`).expectError(t, http.StatusBadRequest, 107)
	s.call(t, "presence", `{"channel":"x"}`).decode(t, &struct{}{})
}

// Behind a trusted proxy the access log names the client from
// X-Forwarded-For, as the node's limits do; without one it names the peer.
func TestAccessLogNamesTheClientBehindATrustedProxy(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		cfg := herald.Config{}
		if trusted {
			cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		}
		s := startKeyed(t, cfg)
		s.do(t, http.MethodPost, "/api/info", strings.NewReader(`{}`), map[string]string{
			"X-API-Key": testKey, "Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9",
		})
		logged := strings.Contains(s.logs.String(), "remote=203.0.113.9")
		if logged != trusted {
			t.Fatalf("trusted proxy %v: forwarded address logged %v:\n%s", trusted, logged, s.logs.String())
		}
	}
}

// TestKeyHint: a program built on the library says how to set its key in
// its own terms, in the 401 answers.
func TestKeyHint(t *testing.T) {
	s := start(t, herald.Config{}, api.Config{KeyHint: "set MYAPP_KEY"})
	a := s.do(t, http.MethodPost, "/api/info", strings.NewReader(`{}`), nil)
	if msg := a.expectError(t, http.StatusUnauthorized, 101); msg != "no API key is configured: set MYAPP_KEY" {
		t.Fatalf("401 message %q, want the program's hint", msg)
	}
}
