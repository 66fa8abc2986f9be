package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a call, the outcome label of herald_proxy_calls_total.
const (
	outcomeOK          = "ok"          // a result
	outcomeError       = "error"       // the backend answered an error (a refusal)
	outcomeDisconnect  = "disconnect"  // the backend asked to close the connection
	outcomeTimeout     = "timeout"     // no answer within the timeout
	outcomeUnreachable = "unreachable" // no connection to the backend
	outcomeBadAnswer   = "bad_answer"  // an answer that is not the documented JSON, a non-2xx status, too large
	outcomeBusy        = "busy"        // refused: too many calls in flight
)

// metrics counts proxy calls.
type metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_proxy_calls_total",
			Help: "Calls to the application's backend through the HTTP proxy, by event and outcome (ok, error, disconnect, timeout, unreachable, bad_answer, busy).",
		}, []string{"event", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_proxy_call_duration_seconds",
			Help:    "How long calls to the application's backend took, retries included, by event.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"event"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_proxy_calls_in_flight",
			Help: "Calls to the application's backend in flight on this node.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.duration, m.inFlight)
	}
	return m
}
