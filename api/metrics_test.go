package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/api"
)

// series returns the counter value, or the histogram sample count, of
// name{labels} in reg (0 when absent).
func series(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				if m.Histogram != nil {
					return float64(m.Histogram.GetSampleCount())
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, lp := range m.GetLabel() {
		got[lp.GetName()] = lp.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return len(got) == len(want)
}

func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := start(t, herald.Config{Registry: reg}, api.Config{Key: testKey, Registry: reg})

	if a := s.call(t, "publish", `{"channel":"news","data":1}`); a.status != http.StatusOK {
		t.Fatalf("publish answered %d: %s", a.status, a.body)
	}
	s.call(t, "publish", `{"channel":"news","data":2}`)
	s.call(t, "info", `{}`)
	s.call(t, "publish", `{"data":1}`)                                                    // 400: no channel
	s.call(t, "no-such-method", `{}`)                                                     // 404
	s.call(t, "x"+strings.Repeat("y", 100), `{}`)                                         // 404, another unknown path
	s.do(t, http.MethodPost, "/api/info", strings.NewReader(`{}`), nil)                   // 401: no key
	s.do(t, http.MethodGet, "/api/publish", nil, map[string]string{"X-API-Key": testKey}) // 405

	for _, tc := range []struct {
		method, status string
		want           float64
	}{
		{"publish", "200", 2},
		{"info", "200", 1},
		{"publish", "400", 1},
		{"unknown", "404", 2},
		{"info", "401", 1},
		{"publish", "405", 1},
	} {
		got := series(t, reg, "herald_api_requests_total", map[string]string{"method": tc.method, "status": tc.status})
		if got != tc.want {
			t.Errorf("herald_api_requests_total{method=%q,status=%q} = %v, want %v", tc.method, tc.status, got, tc.want)
		}
	}
	for method, want := range map[string]float64{"publish": 4, "info": 2, "unknown": 2} {
		got := series(t, reg, "herald_api_request_duration_seconds", map[string]string{"method": method})
		if got != want {
			t.Errorf("herald_api_request_duration_seconds{method=%q} has %v samples, want %v", method, got, want)
		}
	}
}

// TestRequestMetricsShared mounts two handlers on one registry: the second
// registers without error and both count in the same series.
func TestRequestMetricsShared(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := start(t, herald.Config{Registry: reg}, api.Config{Key: testKey, Registry: reg})
	second := api.New(s.node, api.Config{Key: testKey, Registry: reg})
	s.call(t, "info", `{}`)
	req, err := http.NewRequest(http.MethodPost, "/api/info", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", testKey)
	second.ServeHTTP(httptest.NewRecorder(), req)
	if got := series(t, reg, "herald_api_requests_total", map[string]string{"method": "info", "status": "200"}); got != 2 {
		t.Fatalf("herald_api_requests_total{method=info,status=200} = %v, want 2", got)
	}
}

// TestNoRegistry: without Config.Registry the handler serves and registers
// nothing.
func TestNoRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := start(t, herald.Config{Registry: reg}, api.Config{Key: testKey})
	s.call(t, "info", `{}`)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "herald_api_") {
			t.Fatalf("%s registered without api.Config.Registry", f.GetName())
		}
	}
}
