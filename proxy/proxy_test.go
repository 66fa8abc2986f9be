package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/leaktest"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/proxy"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// backend is a test backend: fn answers each call, by path.
func backend(t *testing.T, fn http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(fn)
	t.Cleanup(s.Close)
	return s.URL
}

// node starts a node with p installed and returns its WebSocket URL.
func node(t *testing.T, cfg proxy.Config) (*herald.Node, string, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	n, err := herald.New(herald.Config{Registry: reg, ShutdownWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Registry = reg
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Install(n)
	mux := http.NewServeMux()
	mux.Handle("/ws", n.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	return n, wstest.WSURL(hs.URL, "/ws"), reg
}

func ep(url string) *proxy.Endpoint { return &proxy.Endpoint{URL: url, Timeout: 2 * time.Second} }

func rpcRoute(url string) []proxy.RPCRoute {
	return []proxy.RPCRoute{{Method: "*", Endpoint: *ep(url)}}
}

// TestConnectFromCookie checks that the connect call forwards only the
// allowed headers and cookies, and that the backend's result becomes the
// connection's user, data and server-side channels.
func TestConnectFromCookie(t *testing.T) {
	var got http.Header
	var body proxy.ConnectRequest
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_ = json.NewDecoder(r.Body).Decode(&body)
		c, err := r.Cookie("sid")
		if err != nil || c.Value != "s3cret" {
			io.WriteString(w, `{"error":{"code":101,"message":"no session"}}`)
			return
		}
		io.WriteString(w, `{"result":{"user":"ann","data":{"hello":"ann"},"channels":["inbox:ann"]}}`)
	})
	_, wsURL, _ := node(t, proxy.Config{Connect: &proxy.Endpoint{
		URL: url, Cookies: []string{"sid"}, Headers: []string{"User-Agent", "X-Keep"},
		StaticHeaders: map[string]string{"X-Herald-Secret": "shh"},
	}})
	h := http.Header{"Cookie": {"sid=s3cret; other=leak"}, "X-Keep": {"yes"}, "X-Drop": {"no"}}
	c := wstest.Dial(t, wsURL, h)
	res := c.Connect(map[string]any{"data": map[string]int{"v": 1}})
	if res.User != "ann" || string(res.Data) != `{"hello":"ann"}` || res.Subs["inbox:ann"] == nil {
		t.Fatalf("connect result %+v", res)
	}
	if got.Get("Cookie") != "sid=s3cret" || got.Get("X-Keep") != "yes" || got.Get("X-Drop") != "" || got.Get("X-Herald-Secret") != "shh" {
		t.Fatalf("forwarded headers %v", got)
	}
	if body.Client == "" || string(body.Data) != `{"v":1}` {
		t.Fatalf("connect request %+v", body)
	}

	bad := wstest.Dial(t, wsURL, http.Header{"Cookie": {"sid=wrong"}})
	id := bad.Command(map[string]any{"op": "connect"})
	if r := bad.WaitReply(id); r.Error == nil || r.Error.Code != 101 {
		t.Fatalf("bad session: %+v", r.Error)
	}
	if code := bad.ExpectClose(5 * time.Second); code != 3500 {
		t.Fatalf("bad session closed with %d, want 3500", code)
	}
}

// TestConnectDisconnectAnswer checks that a disconnect answer to connect
// closes the connection with the backend's code.
func TestConnectDisconnectAnswer(t *testing.T) {
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"disconnect":{"code":4001,"reason":"banned"}}`)
	})
	_, wsURL, _ := node(t, proxy.Config{Connect: ep(url)})
	c := wstest.Dial(t, wsURL)
	c.Command(map[string]any{"op": "connect"})
	if code := c.ExpectClose(5 * time.Second); code != 4001 {
		t.Fatalf("closed with %d, want 4001", code)
	}
}

// TestEvents checks subscribe (deny with the backend's code), publish
// (rewrite), rpc (the result is the backend's), send (forwarded) and a
// disconnect answer to an RPC.
func TestEvents(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		var req map[string]json.RawMessage
		_ = json.NewDecoder(r.Body).Decode(&req)
		switch r.URL.Path {
		case "/subscribe":
			if string(req["channel"]) == `"secret"` {
				io.WriteString(w, `{"error":{"code":1001,"message":"not for you"}}`)
				return
			}
			io.WriteString(w, `{"result":{}}`)
		case "/publish":
			io.WriteString(w, `{"result":{"data":{"text":"rewritten"}}}`)
		case "/rpc":
			if string(req["method"]) == `"kick"` {
				io.WriteString(w, `{"disconnect":{"code":4000,"reason":"kicked"}}`)
				return
			}
			io.WriteString(w, `{"result":{"method":`+string(req["method"])+`,"echo":`+string(req["data"])+`}}`)
		case "/send":
			mu.Lock()
			sent = append(sent, string(req["data"]))
			mu.Unlock()
		}
	})
	_, wsURL, _ := node(t, proxy.Config{
		Subscribe: ep(url + "/subscribe"), Publish: ep(url + "/publish"), Send: ep(url + "/send"), RPC: rpcRoute(url + "/rpc"),
	})
	c := wstest.Dial(t, wsURL)
	c.Connect()
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "secret"}); r.Error == nil || r.Error.Code != 1001 || r.Error.Message != "not for you" {
		t.Fatalf("subscribe secret: %+v", r.Error)
	}
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if r := c.Call(map[string]any{"op": "publish", "channel": "news", "data": map[string]string{"text": "orig"}}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if p, err := c.NextPush("pub", 5*time.Second); err != nil || string(p.Data) != `{"text":"rewritten"}` {
		t.Fatalf("publication %s %v", p.Data, err)
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "sum", "data": []int{1, 2}}); r.Error != nil || string(r.Result) != `{"data":{"method":"sum","echo":[1,2]}}` {
		t.Fatalf("rpc: %s %v", r.Result, r.Error)
	}
	if err := c.SendRaw(`{"op":"send","data":{"typing":true}}`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(sent) == 1 && sent[0] == `{"typing":true}` })
	c.Command(map[string]any{"op": "rpc", "method": "kick"})
	if code := c.ExpectClose(5 * time.Second); code != 4000 {
		t.Fatalf("kick closed with %d, want 4000", code)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBadBackendGives112 checks every way a backend can fail: the client
// gets 112 quickly, the connection stays open, the node keeps serving and
// the failure is counted by outcome.
func TestBadBackendGives112(t *testing.T) {
	stop := make(chan struct{})
	big := strings.Repeat("x", 2<<20)
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, "/") {
		case "garbage":
			io.WriteString(w, `{"result":1,"error":{"code":5}}`)
		case "nonjson":
			io.WriteString(w, `<html>oops</html>`)
		case "status500":
			w.WriteHeader(500)
			io.WriteString(w, `{"result":{}}`)
		case "redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "huge":
			io.WriteString(w, `{"result":"`+big+`"}`)
		case "silent":
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		case "ok":
			io.WriteString(w, `{"result":"fine"}`)
		}
	})
	t.Cleanup(func() { close(stop) }) // before the backend closes: cleanups run last first
	closed := httptest.NewServer(http.NotFoundHandler())
	deadURL := closed.URL
	closed.Close()
	var routes []proxy.RPCRoute
	for _, m := range []string{"garbage", "nonjson", "status500", "redirect", "huge", "silent", "ok"} {
		routes = append(routes, proxy.RPCRoute{Method: m, Endpoint: proxy.Endpoint{URL: url + "/" + m, Timeout: 300 * time.Millisecond}})
	}
	routes = append(routes, proxy.RPCRoute{Method: "dead", Endpoint: proxy.Endpoint{URL: deadURL, Timeout: time.Second}})
	_, wsURL, reg := node(t, proxy.Config{RPC: routes})
	c := wstest.Dial(t, wsURL)
	c.Connect()
	for _, m := range []string{"garbage", "nonjson", "status500", "redirect", "huge", "silent", "dead"} {
		r := c.Call(map[string]any{"op": "rpc", "method": m})
		if r.Error == nil || r.Error.Code != 112 {
			t.Fatalf("%s: got %s %+v, want error 112", m, r.Result, r.Error)
		}
		if ok := c.Call(map[string]any{"op": "rpc", "method": "ok"}); ok.Error != nil || string(ok.Result) != `{"data":"fine"}` {
			t.Fatalf("after %s: %s %v", m, ok.Result, ok.Error)
		}
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "unrouted"}); r.Error == nil || r.Error.Code != 104 {
		t.Fatalf("unrouted: %+v", r.Error)
	}
	for outcome, want := range map[string]float64{"bad_answer": 5, "timeout": 1, "unreachable": 1, "ok": 7} {
		if got := counter(t, reg, "rpc", outcome); got != want {
			t.Errorf("calls{rpc,%s} = %v, want %v", outcome, got, want)
		}
	}
}

// counter returns herald_proxy_calls_total{event,outcome}.
func counter(t *testing.T, reg *prometheus.Registry, event, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "herald_proxy_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["event"] == event && labels["outcome"] == outcome {
				v = m.GetCounter().GetValue()
			}
		}
	}
	return v
}

// TestRPCFloodIsBounded checks that a flood of RPCs against a slow backend
// holds at most MaxConcurrent calls and refuses the rest at once with 112.
func TestRPCFloodIsBounded(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	inFlight, maxSeen := 0, 0
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		io.WriteString(w, `{"result":"slow"}`)
	})
	_, wsURL, _ := node(t, proxy.Config{MaxConcurrent: 3, RPC: []proxy.RPCRoute{{Method: "*", Endpoint: proxy.Endpoint{URL: url, Timeout: 10 * time.Second}}}})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the backend closes: cleanups run last first
	const n = 12
	clients := make([]*wstest.Client, n)
	for i := range clients {
		clients[i] = wstest.Dial(t, wsURL)
		clients[i].Connect()
	}
	results := make(chan *protocol.Error, n)
	for _, c := range clients {
		c.Command(map[string]any{"op": "rpc", "method": "slow"})
		go func() {
			r, err := c.Next(10 * time.Second)
			if err != nil {
				results <- &protocol.Error{Code: -1, Message: err.Error()}
				return
			}
			results <- r.Error
		}()
	}
	// The refused ones answer at once, while three calls are held.
	for range n - 3 {
		if e := <-results; e == nil || e.Code != 112 {
			t.Fatalf("while the backend is held: got %+v, want 112", e)
		}
	}
	unblock()
	for range 3 {
		if e := <-results; e != nil {
			t.Fatalf("a held call: %+v", e)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if maxSeen > 3 {
		t.Fatalf("%d calls in flight at once, want at most 3", maxSeen)
	}
}

// TestRetriesOnlyWhereIdempotent checks that connect retries after a 503
// and that a retry for rpc is refused by Validate.
func TestRetriesOnlyWhereIdempotent(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"result":{"user":"bob"}}`)
	})
	_, wsURL, _ := node(t, proxy.Config{Connect: &proxy.Endpoint{URL: url, Timeout: 2 * time.Second, Retries: 1}})
	c := wstest.Dial(t, wsURL)
	if res := c.Connect(); res.User != "bob" {
		t.Fatalf("user %q", res.User)
	}
	_, err := proxy.New(proxy.Config{RPC: []proxy.RPCRoute{{Method: "*", Endpoint: proxy.Endpoint{URL: url, Retries: 2}}}})
	if err == nil || !strings.Contains(err.Error(), "never repeated") {
		t.Fatalf("rpc retries accepted: %v", err)
	}
}

// TestPreferToken checks the rule with JWT: a connect with a token goes
// to the token handler, one without to the backend.
func TestPreferToken(t *testing.T) {
	token := func(context.Context, *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: "from-jwt"}, nil
	}
	backend := func(context.Context, *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: "from-backend"}, nil
	}
	h := proxy.PreferToken(token, backend)
	for tok, want := range map[string]string{"abc": "from-jwt", "": "from-backend"} {
		rep, _ := h(context.Background(), &herald.ConnectEvent{Token: tok})
		if rep.User != want {
			t.Errorf("token %q: user %q, want %q", tok, rep.User, want)
		}
	}
}

// TestConnectResultOfWrongShape checks that a connect result that does
// not match ConnectResult gives 112, closes with 3004 (reconnect later),
// and counts as bad_answer only.
func TestConnectResultOfWrongShape(t *testing.T) {
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"result":{"user":5}}`)
	})
	_, wsURL, reg := node(t, proxy.Config{Connect: ep(url)})
	c := wstest.Dial(t, wsURL)
	id := c.Command(map[string]any{"op": "connect"})
	if r := c.WaitReply(id); r.Error == nil || r.Error.Code != 112 {
		t.Fatalf("got %+v, want 112", r.Error)
	}
	if code := c.ExpectClose(5 * time.Second); code != 3004 {
		t.Fatalf("closed with %d, want 3004", code)
	}
	if bad, ok := counter(t, reg, "connect", "bad_answer"), counter(t, reg, "connect", "ok"); bad != 1 || ok != 0 {
		t.Fatalf("bad_answer %v, ok %v; want 1 and 0", bad, ok)
	}
}

// TestHeadersAfterConnect checks that the handshake's cookies and headers
// that later endpoints list reach them, whoever decided connect: the
// connect proxy (through Install) or another handler wrapped by Capture.
func TestHeadersAfterConnect(t *testing.T) {
	got := make(chan string, 4)
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/subscribe" {
			got <- r.Header.Get("Cookie") + "|" + r.Header.Get("X-Tenant") + "|" + r.Header.Get("X-Other")
		}
		io.WriteString(w, `{"result":{"user":"ann"}}`)
	})
	sub := &proxy.Endpoint{URL: url + "/subscribe", Cookies: []string{"sid"}, Headers: []string{"X-Tenant"}}
	h := http.Header{"Cookie": {"sid=abc; other=x"}, "X-Tenant": {"t1"}, "X-Other": {"no"}}

	_, wsURL, _ := node(t, proxy.Config{Connect: ep(url + "/connect"), Subscribe: sub})
	c := wstest.Dial(t, wsURL, h)
	c.Connect()
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "x"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if g := <-got; g != "sid=abc|t1|" {
		t.Fatalf("with the connect proxy, subscribe got %q", g)
	}

	// Another connect handler (JWT, say), wrapped by Capture.
	n, err := herald.New(herald.Config{ShutdownWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Config{Subscribe: sub})
	if err != nil {
		t.Fatal(err)
	}
	p.Install(n)
	n.OnConnect(p.Capture(nil))
	hs := httptest.NewServer(n.Handler())
	defer func() {
		hs.Close()
		_ = n.Shutdown(context.Background())
	}()
	c2 := wstest.Dial(t, wstest.WSURL(hs.URL, ""), h)
	c2.Connect()
	if r := c2.Call(map[string]any{"op": "subscribe", "channel": "x"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if g := <-got; g != "sid=abc|t1|" {
		t.Fatalf("with Capture, subscribe got %q", g)
	}
}
