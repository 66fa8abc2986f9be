package webhook

import "github.com/prometheus/client_golang/prometheus"

// metrics counts webhook events and deliveries.
type metrics struct {
	events     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	dropped    prometheus.Counter
	queued     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_webhook_events_total",
			Help: "Webhook events queued for delivery, by name (one per endpoint that takes it).",
		}, []string{"name"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_webhook_requests_total",
			Help: "Webhook requests (batches), by outcome: ok (2xx), failed (retried later).",
		}, []string{"outcome"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_webhook_dropped_total",
			Help: "Webhook events dropped, oldest first, because the queue was full while a receiver was down.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_webhook_queued_events",
			Help: "Webhook events waiting for delivery, over every endpoint.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.deliveries, m.dropped, m.queued)
	}
	return m
}
