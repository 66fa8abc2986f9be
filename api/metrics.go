package api

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts API requests. A nil *metrics counts nothing.
type metrics struct {
	requests *prometheus.CounterVec   // by method and status
	duration *prometheus.HistogramVec // by method
}

// newMetrics registers the API's metrics on reg, or returns nil when reg is
// nil. Handlers that share a registry share their series.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	requests, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_api_requests_total",
		Help: "HTTP API requests, by API method (\"unknown\" for any other path) and HTTP status.",
	}, []string{"method", "status"}))
	if err != nil {
		return nil, err
	}
	duration, err := register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_api_request_duration_seconds",
		Help:    "Time to answer an HTTP API request, by API method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method"}))
	if err != nil {
		return nil, err
	}
	return &metrics{requests: requests, duration: duration}, nil
}

// register registers c on reg, or returns the collector already registered
// there under the same description.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// observe counts one answered request. method is the API method of the
// path, or "unknown", so that callers cannot grow the series.
func (m *metrics) observe(method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method).Observe(took.Seconds())
}

// methodLabel is the metrics label of a request path.
func methodLabel(p string) string {
	name := methodName(p)
	if lookup(name) == nil {
		return "unknown"
	}
	return name
}
