package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/api"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/memory"
	"github.com/heraldrt/herald/dashboard"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/proxy"
	"github.com/heraldrt/herald/webhook"
)

// The documentation of the metrics (docs/operations.md, the Grafana
// dashboard and the alert rules) is checked against the metrics a real node
// exposes, so that neither can change without the other.

var docsDir = filepath.Join("..", "docs")

// metricName matches the metric names the docs use.
var metricName = regexp.MustCompile(`\b(?:herald|go|process)_[a-z0-9_]*[a-z0-9]\b`)

// failingBroker is the memory broker with publish and ping failing on
// demand, as a broker that lost its server would.
type failingBroker struct {
	*memory.Broker
	down atomic.Bool
}

var errBrokerDown = errors.New("broker down (test)")

func (f *failingBroker) Publish(ctx context.Context, ch string, p *broker.Publication, o broker.PublishOptions) (broker.PublishResult, error) {
	if f.down.Load() {
		return broker.PublishResult{}, errBrokerDown
	}
	return f.Broker.Publish(ctx, ch, p, o)
}

func (f *failingBroker) Ping(ctx context.Context) error {
	if f.down.Load() {
		return errBrokerDown
	}
	return f.Broker.Ping(ctx)
}

// scrape runs a node as the herald binary registers it (node, API, Go and
// process collectors on one registry), makes every labelled metric move
// once, and returns the metric families of a scrape by name.
func scrape(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	fb := &failingBroker{Broker: memory.New()}
	s := start(t, herald.Config{Registry: reg, Broker: fb, Channels: herald.ChannelOptions{HistorySize: 10}}, dashboard0())
	apiHandler := api.New(s.node, api.Config{Key: testKey, Registry: reg})

	// The backend integrations: a proxied RPC and a webhook delivery.
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"result":1}`)
	}))
	t.Cleanup(backend.Close)
	p, err := proxy.New(proxy.Config{Registry: reg, RPC: []proxy.RPCRoute{{Method: "proxied", Endpoint: proxy.Endpoint{URL: backend.URL}}}})
	if err != nil {
		t.Fatal(err)
	}
	p.Install(s.node)
	wh, err := webhook.New(webhook.Config{Endpoints: []webhook.Endpoint{{URL: backend.URL, Secret: "0123456789abcdef"}}, Registry: reg, FlushDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wh.Close(context.Background()) })
	wh.Attach(s.node)

	c := wstest.Dial(t, wstest.WSURL(s.url, "/ws"))
	c.Connect()
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "m"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "proxied"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if r := c.Call(map[string]any{"op": "publish", "channel": "m", "data": 1}); r.Error != nil {
		t.Fatal(r.Error)
	}
	c.Call(map[string]any{"op": "rpc", "method": "nope"}) // a command error
	// A recovery from a position the channel does not have.
	other := wstest.Dial(t, wstest.WSURL(s.url, "/ws"))
	other.Connect()
	other.Call(map[string]any{"op": "subscribe", "channel": "m", "recover": true, "offset": 1, "epoch": "gone"})
	_ = other.Conn.CloseNow() // a disconnect
	// Broker errors.
	fb.down.Store(true)
	c.Call(map[string]any{"op": "publish", "channel": "m", "data": 2})
	_ = s.node.Ready(context.Background())
	fb.down.Store(false)
	// An API request.
	req := httptest.NewRequest(http.MethodPost, "/api/info", strings.NewReader(`{}`))
	req.Header.Set("X-API-Key", testKey)
	apiHandler.ServeHTTP(httptest.NewRecorder(), req)

	want := []string{"herald_disconnects_total", "herald_recoveries_total", "herald_broker_errors_total",
		"herald_command_errors_total", "herald_api_requests_total", "herald_proxy_calls_total",
		"herald_webhook_events_total", "herald_webhook_requests_total"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		have := make(map[string]dto.MetricType, len(families))
		for _, f := range families {
			have[f.GetName()] = f.GetType()
		}
		missing := 0
		for _, name := range want {
			if _, ok := have[name]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return have
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scrape lacks some of %v after their events", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dashboard0 is a dashboard config for tests that do not open it.
func dashboard0() dashboard.Config { return dashboard.Config{Password: testPassword} }

// exists reports whether a name used in a query is exposed: as is, or as
// the _bucket, _sum or _count series of a histogram or summary.
func exists(have map[string]dto.MetricType, name string) bool {
	if _, ok := have[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		switch have[base] {
		case dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY:
			return suffix != "_bucket" || have[base] == dto.MetricType_HISTOGRAM
		}
	}
	return false
}

// checkQuery checks that a PromQL expression is balanced and that every
// metric it names is exposed.
func checkQuery(t *testing.T, have map[string]dto.MetricType, where, expr string) {
	t.Helper()
	if err := balanced(expr); err != nil {
		t.Errorf("%s: %v in %q", where, err, expr)
	}
	for _, name := range metricName.FindAllString(expr, -1) {
		if !exists(have, name) {
			t.Errorf("%s: %s is not a metric a node exposes (in %q)", where, name, expr)
		}
	}
}

// balanced checks brackets and quotes, outside quoted strings.
func balanced(expr string) error {
	var stack []rune
	var quote rune
	pairs := map[rune]rune{')': '(', '}': '{', ']': '['}
	for _, r := range expr {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '(' || r == '{' || r == '[':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return errors.New("unbalanced " + string(r))
			}
			stack = stack[:len(stack)-1]
		}
	}
	if quote != 0 || len(stack) > 0 {
		return errors.New("unclosed bracket or quote")
	}
	return nil
}

func TestGrafanaDashboard(t *testing.T) {
	have := scrape(t)
	b, err := os.ReadFile(filepath.Join(docsDir, "grafana", "herald.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("herald.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Error("the dashboard has no title or uid")
	}
	hasDatasource := false
	for _, v := range dash.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			hasDatasource = true
		}
		if q, ok := v.Query.(map[string]any); ok {
			checkQuery(t, have, "variable "+v.Name, q["query"].(string))
		}
	}
	if !hasDatasource {
		t.Error("the dashboard has no Prometheus datasource variable named datasource")
	}

	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the datasource variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			checkQuery(t, have, "panel "+p.Title, tg.Expr)
			for _, name := range metricName.FindAllString(tg.Expr, -1) {
				used[name] = true
			}
		}
	}
	// The panels the issue asks for.
	for _, name := range []string{"herald_connections", "herald_messages_sent_total", "herald_deliveries_total",
		"herald_publish_fanout_seconds_bucket", "herald_slow_consumer_disconnects_total", "herald_disconnects_total",
		"herald_broker_errors_total", "herald_api_requests_total",
		// The backend integration (issue 15): proxy calls and webhook deliveries.
		"herald_proxy_calls_total", "herald_proxy_call_duration_seconds_bucket", "herald_proxy_calls_in_flight",
		"herald_webhook_events_total", "herald_webhook_requests_total", "herald_webhook_dropped_total", "herald_webhook_queued_events"} {
		if !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
	if !strings.Contains(string(b), "histogram_quantile(0.99") {
		t.Error("no panel shows a p99 quantile")
	}
}

func TestAlertRules(t *testing.T) {
	have := scrape(t)
	f, err := os.Open(filepath.Join(docsDir, "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var file struct {
		Groups []struct {
			Name     string `yaml:"name"`
			Interval string `yaml:"interval"`
			Rules    []struct {
				Alert       string            `yaml:"alert"`
				Record      string            `yaml:"record"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true) // only the fields of a Prometheus rule file
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	if len(file.Groups) == 0 {
		t.Fatal("alerts.yml has no rule group")
	}
	// Prometheus' template functions, as stubs: the annotations must parse.
	funcs := template.FuncMap{}
	for _, fn := range []string{"humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "printf", "title", "toUpper", "toLower"} {
		funcs[fn] = func(v any) string { return "" }
	}
	names := map[string]bool{}
	used := map[string]bool{}
	for _, g := range file.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: no name or no rules", g.Name)
		}
		for _, r := range g.Rules {
			where := "alert " + r.Alert
			if r.Alert == "" || r.Record != "" {
				t.Errorf("%s: every rule here is an alert", where)
			}
			if names[r.Alert] {
				t.Errorf("%s: the name is used twice", where)
			}
			names[r.Alert] = true
			if strings.TrimSpace(r.Expr) == "" {
				t.Errorf("%s: no expr", where)
			}
			checkQuery(t, have, where, r.Expr)
			for _, name := range metricName.FindAllString(r.Expr, -1) {
				used[name] = true
			}
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", where, r.For, err)
				}
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", where, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", where)
			}
			for k, v := range r.Annotations {
				// Prometheus defines these variables before each template.
				const defs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
				tmpl, err := template.New(k).Funcs(funcs).Parse(defs + v)
				if err == nil {
					err = tmpl.Execute(io.Discard, alertData{Labels: map[string]string{"instance": "h:9090"}, Value: 1})
				}
				if err != nil {
					t.Errorf("%s: annotation %s: %v", where, k, err)
				}
			}
		}
	}
	// The alerts the issue asks for.
	for _, name := range []string{"herald_slow_consumer_disconnects_total", "herald_broker_errors_total",
		"herald_publish_fanout_seconds_bucket", "herald_draining", "herald_connections"} {
		if !used[name] {
			t.Errorf("no alert uses %s", name)
		}
	}
}

// alertData is what Prometheus gives an annotation template.
type alertData struct {
	Labels         map[string]string
	ExternalLabels map[string]string
	ExternalURL    string
	Value          float64
}

func TestOperationsDoc(t *testing.T) {
	have := scrape(t)
	b, err := os.ReadFile(filepath.Join(docsDir, "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	// Every Herald metric is documented...
	var undocumented []string
	for name := range have {
		if strings.HasPrefix(name, "herald_") && !strings.Contains(doc, "`"+name+"`") {
			undocumented = append(undocumented, name)
		}
	}
	sort.Strings(undocumented)
	if len(undocumented) > 0 {
		t.Errorf("docs/operations.md does not document %v", undocumented)
	}
	// ...and every metric it names exists.
	for _, name := range metricName.FindAllString(doc, -1) {
		if !exists(have, name) {
			t.Errorf("docs/operations.md names %s, which a node does not expose", name)
		}
	}
}
