package dashboard_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/dashboard"
	"github.com/heraldrt/herald/internal/wstest"
)

const (
	testPassword = "admin-password-0123"
	testKey      = "api-key-0123456789"
)

// server is a Node with its WebSocket endpoint at /ws and the dashboard at
// /dashboard/, on a real HTTP server, mounted as the herald binary mounts
// them.
type server struct {
	node *herald.Node
	http *httptest.Server
	url  string // http://host
}

func start(t *testing.T, cfg herald.Config, dcfg dashboard.Config) *server {
	t.Helper()
	cfg.ShutdownWindow = 50 * time.Millisecond
	node, err := herald.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if dcfg.Interval == 0 {
		dcfg.Interval = 50 * time.Millisecond
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	dash := dashboard.New(node, dcfg)
	mux.Handle("/dashboard/", dash)
	mux.Handle("/dashboard", dash)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		closeWithin(t, hs, 5*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Shutdown(ctx)
	})
	return &server{node: node, http: hs, url: hs.URL}
}

// closeWithin closes hs and fails the test if a request (an event stream)
// keeps it open longer than d.
func closeWithin(t *testing.T, hs *httptest.Server, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { hs.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Errorf("the HTTP server did not close within %v: a dashboard request is still running", d)
		hs.CloseClientConnections()
		<-done
	}
}

// get fetches path with Basic credentials (none when password is "").
func (s *server) get(t *testing.T, path, password string, header ...string) *http.Response {
	t.Helper()
	return s.do(t, context.Background(), http.MethodGet, path, password, header...)
}

// do sends a method request for path, with Basic credentials (any user
// name) unless password is "", and the header name/value pairs. It follows
// no redirect; the request ends with ctx, and the caller reads the body.
func (s *server) do(t *testing.T, ctx context.Context, method, path, password string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if password != "" {
		req.SetBasicAuth("anyone", password)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := *s.http.Client() // a copy: the server's client is shared
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAuth(t *testing.T) {
	s := start(t, herald.Config{}, dashboard.Config{Password: testPassword, APIKey: testKey})
	for _, tc := range []struct {
		name, password string
		want           int
	}{
		{"no credentials", "", http.StatusUnauthorized},
		{"wrong password", "nope", http.StatusUnauthorized},
		{"password with a suffix", testPassword + "x", http.StatusUnauthorized},
		{"admin password", testPassword, http.StatusOK},
		{"API key", testKey, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/dashboard/", "/dashboard/events", "/dashboard/app.js"} {
				resp := s.getStream(t, path, tc.password)
				if resp.StatusCode != tc.want {
					t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, tc.want)
				}
				if tc.want == http.StatusUnauthorized {
					if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
						t.Errorf("GET %s: WWW-Authenticate %q, want a Basic challenge", path, got)
					}
					if b := body(t, resp); strings.Contains(b, "<script") {
						t.Errorf("GET %s: 401 shows the page: %.80s", path, b)
					}
				}
				resp.Body.Close()
			}
		})
	}
}

// getStream is get that does not read the body (an event stream never
// ends).
func (s *server) getStream(t *testing.T, path, password string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp := s.do(t, ctx, http.MethodGet, path, password)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestOnlyOneSecretConfigured(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  dashboard.Config
		ok   string
	}{
		{"password only", dashboard.Config{Password: testPassword}, testPassword},
		{"key only", dashboard.Config{APIKey: testKey}, testKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, herald.Config{}, tc.cfg)
			resp := s.get(t, "/dashboard/", tc.ok)
			body(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("configured secret: status %d, want 200", resp.StatusCode)
			}
			// The unset secret is "", and an empty password must not match it.
			emptyPassword := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"))
			resp = s.get(t, "/dashboard/", "", "Authorization", emptyPassword)
			body(t, resp)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("empty password: status %d, want 401", resp.StatusCode)
			}
		})
	}
}

func TestNotConfigured(t *testing.T) {
	s := start(t, herald.Config{}, dashboard.Config{})
	for _, accept := range []string{"text/html,*/*", "text/event-stream", ""} {
		resp := s.get(t, "/dashboard/", "anything", "Accept", accept)
		b := body(t, resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Accept %q: status %d, want 401", accept, resp.StatusCode)
		}
		if !strings.Contains(b, "dashboard.Config.Password") {
			t.Errorf("Accept %q: the answer does not say how to set a password: %s", accept, b)
		}
	}
	resp := s.get(t, "/dashboard/events", "")
	body(t, resp)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("events: status %d, want 401", resp.StatusCode)
	}
}

func TestPageAndAssets(t *testing.T) {
	s := start(t, herald.Config{}, dashboard.Config{Password: testPassword})

	resp := s.get(t, "/dashboard", "")
	body(t, resp)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "dashboard/" {
		t.Errorf("GET /dashboard: %d Location %q, want a redirect to dashboard/", resp.StatusCode, resp.Header.Get("Location"))
	}

	for path, ct := range map[string]string{
		"/dashboard/":            "text/html",
		"/dashboard/index.html":  "text/html",
		"/dashboard/app.js":      "text/javascript",
		"/dashboard/app.css":     "text/css",
		"/dashboard/favicon.svg": "image/svg+xml",
	} {
		resp := s.get(t, path, testPassword)
		b := body(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) {
			t.Errorf("GET %s: %d %q, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), ct)
		}
		if len(b) == 0 {
			t.Errorf("GET %s: empty body", path)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		// Revalidation with the ETag answers 304.
		if etag := resp.Header.Get("ETag"); etag != "" {
			again := s.get(t, path, testPassword, "If-None-Match", etag)
			body(t, again)
			if again.StatusCode != http.StatusNotModified {
				t.Errorf("GET %s with its ETag: %d, want 304", path, again.StatusCode)
			}
		}
	}

	// No external asset: everything the page loads is its own.
	page := body(t, s.get(t, "/dashboard/", testPassword))
	for _, bad := range []string{"http://", "https://", "//cdn"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page refers to %q", bad)
		}
	}

	resp = s.get(t, "/dashboard/nope", testPassword)
	body(t, resp)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /dashboard/nope: %d, want 404", resp.StatusCode)
	}
	post := s.do(t, context.Background(), http.MethodPost, "/dashboard/", testPassword)
	body(t, post)
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /dashboard/: %d, want 405", post.StatusCode)
	}
}

func TestMountedBehindStripPrefix(t *testing.T) {
	node, err := herald.New(herald.Config{ShutdownWindow: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Shutdown(context.Background()) })
	h := http.StripPrefix("/dashboard", dashboard.New(node, dashboard.Config{Password: testPassword}))
	req := httptest.NewRequest(http.MethodGet, "/dashboard/app.css", nil)
	req.SetBasicAuth("x", testPassword)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("behind StripPrefix: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// sse reads Server-Sent Events from an open stream.
type sse struct {
	t    *testing.T
	resp *http.Response
	r    *bufio.Reader
}

type sseEvent struct {
	name string
	data string
}

func (s *server) openEvents(t *testing.T, ctx context.Context) *sse {
	t.Helper()
	resp := s.do(t, ctx, http.MethodGet, "/dashboard/events", testPassword)
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dashboard/events: %d %s", resp.StatusCode, body(t, resp))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	return &sse{t: t, resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the next event, or io.EOF when the stream ended.
func (e *sse) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := e.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		case strings.HasPrefix(line, "retry: "), strings.HasPrefix(line, ":"):
		default:
			return ev, fmt.Errorf("unexpected event stream line %q", line)
		}
	}
}

// stats returns the next "stats" event, decoded strictly.
func (e *sse) stats() herald.Stats {
	e.t.Helper()
	for {
		ev, err := e.next()
		if err != nil {
			e.t.Fatalf("read event: %v", err)
		}
		if ev.name != "stats" {
			continue
		}
		var st herald.Stats
		dec := json.NewDecoder(strings.NewReader(ev.data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&st); err != nil {
			e.t.Fatalf("stats event is not a herald.Stats: %v\n%s", err, ev.data)
		}
		return st
	}
}

// waitStats reads stats events until ok accepts one.
func (e *sse) waitStats(what string, ok func(herald.Stats) bool) herald.Stats {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := e.stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no stats event with %s; last: %+v", what, st)
		}
	}
}

func TestEventsReflectConnections(t *testing.T) {
	s := start(t, herald.Config{Name: "dash-node"}, dashboard.Config{Password: testPassword})
	events := s.openEvents(t, context.Background())

	first, err := events.next()
	if err != nil {
		t.Fatal(err)
	}
	if first.name != "history" {
		t.Fatalf("first event %q, want history", first.name)
	}
	var hist struct {
		IntervalMillis int64             `json:"interval_ms"`
		WindowSeconds  int64             `json:"window_s"`
		Samples        []json.RawMessage `json:"samples"`
	}
	if err := json.Unmarshal([]byte(first.data), &hist); err != nil {
		t.Fatalf("history event: %v\n%s", err, first.data)
	}
	if hist.IntervalMillis != 50 || hist.WindowSeconds != 300 {
		t.Errorf("history interval %d ms, window %d s; want 50 and 300", hist.IntervalMillis, hist.WindowSeconds)
	}

	st := events.stats()
	if st.Name != "dash-node" || st.Connections != 0 || st.Draining || st.Time.IsZero() {
		t.Fatalf("first stats: %+v", st)
	}

	c := wstest.Dial(t, wstest.WSURL(s.url, "/ws"))
	c.Connect()
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); r.Error != nil {
		t.Fatalf("subscribe: %v", r.Error)
	}
	st = events.waitStats("one connection subscribed to news", func(st herald.Stats) bool {
		return st.Connections == 1 && st.Subscriptions == 1 && len(st.TopChannels) == 1
	})
	if st.TopChannels[0].Channel != "news" || st.TopChannels[0].Subscribers != 1 || st.Connects != 1 {
		t.Errorf("stats after connect: %+v", st)
	}

	_ = c.Conn.CloseNow()
	st = events.waitStats("the disconnect", func(st herald.Stats) bool {
		return st.Connections == 0 && len(st.Disconnects) == 1
	})
	if d := st.Disconnects[0]; d.Client == "" || d.Code == 0 || d.Time.IsZero() {
		t.Errorf("recent disconnect: %+v", d)
	}

	// A page opened now receives the samples taken so far.
	later := s.openEvents(t, context.Background())
	ev, err := later.next()
	if err != nil || ev.name != "history" {
		t.Fatalf("second stream: %q %v", ev.name, err)
	}
	if err := json.Unmarshal([]byte(ev.data), &hist); err != nil || len(hist.Samples) < 3 {
		t.Fatalf("history of the second stream: %d samples, %v", len(hist.Samples), err)
	}
}

// TestEventsEnd: a stream ends when its client goes away, when
// Config.Context is done, and when the node drains; closeWithin in the
// cleanup checks that no handler outlives them.
func TestEventsEnd(t *testing.T) {
	t.Run("client goes away", func(t *testing.T) {
		s := start(t, herald.Config{}, dashboard.Config{Password: testPassword})
		ctx, cancel := context.WithCancel(context.Background())
		events := s.openEvents(t, ctx)
		events.stats()
		cancel()
		// The server's handler returns; the cleanup's closeWithin checks it.
	})
	t.Run("server context done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := start(t, herald.Config{}, dashboard.Config{Password: testPassword, Context: ctx})
		events := s.openEvents(t, context.Background())
		events.stats()
		cancel()
		expectEnd(t, events)
	})
	t.Run("node drains", func(t *testing.T) {
		s := start(t, herald.Config{}, dashboard.Config{Password: testPassword})
		events := s.openEvents(t, context.Background())
		events.stats()
		// Hold one connection open so that draining lasts a moment.
		c := wstest.Dial(t, wstest.WSURL(s.url, "/ws"))
		c.Connect()
		go func() { _ = s.node.Shutdown(context.Background()) }()
		events.waitStats("draining", func(st herald.Stats) bool { return st.Draining })
		expectEnd(t, events)
	})
}

func expectEnd(t *testing.T, events *sse) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := events.next(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != io.EOF && !strings.Contains(err.Error(), "closed") {
			t.Logf("stream ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end")
	}
}

// TestPasswordHint: the page of a dashboard without a password says how to
// set one in the program's terms (the herald binary names its flags).
func TestPasswordHint(t *testing.T) {
	s := start(t, herald.Config{}, dashboard.Config{PasswordHint: "set MYAPP_DASHBOARD_PASSWORD"})
	for _, accept := range []string{"text/html", ""} {
		b := body(t, s.get(t, "/dashboard/", "", "Accept", accept))
		if !strings.Contains(b, "set MYAPP_DASHBOARD_PASSWORD") || strings.Contains(b, "dashboard.Config") {
			t.Errorf("Accept %q: %s", accept, b)
		}
	}
}
