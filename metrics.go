package herald

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald/protocol"
)

// metrics are the node's Prometheus metrics. Every name has the herald_
// prefix, counters end in _total, and units are seconds and bytes.
// docs/operations.md says what each one means and what to do when it moves.
type metrics struct {
	connects        prometheus.Counter
	disconnects     *prometheus.CounterVec // by close code
	slowConsumers   prometheus.Counter
	stateLosses     prometheus.Counter
	messagesIn      prometheus.Counter
	bytesIn         prometheus.Counter
	messagesOut     prometheus.Counter
	framesOut       prometheus.Counter
	bytesOut        prometheus.Counter
	batchMessages   prometheus.Histogram
	publications    prometheus.Counter
	deliveries      prometheus.Counter
	fanoutLatency   prometheus.Histogram
	recoveries      *prometheus.CounterVec // by outcome
	brokerOps       *prometheus.CounterVec // by operation
	brokerErrors    *prometheus.CounterVec // by operation
	commandsByOp    *prometheus.CounterVec
	commandErrors   *prometheus.CounterVec // by op and code
	refusedUpgrades *prometheus.CounterVec // by HTTP status
	transportConns  *prometheus.GaugeVec   // open connections by transport
}

func newMetrics(n *Node, reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "herald_" + name, Help: help})
	}
	m := &metrics{
		connects:      c("connects_total", "Connections that completed connect."),
		slowConsumers: c("slow_consumer_disconnects_total", "Connections closed because their write queue overflowed (code 3002)."),
		stateLosses:   c("broker_state_losses_total", "Times the broker could not deliver a channel's publications in order, and its subscribers were sent to recover (code 3003)."),
		messagesIn:    c("messages_received_total", "Protocol messages received from clients."),
		bytesIn:       c("received_bytes_total", "Bytes of WebSocket messages received from clients."),
		messagesOut:   c("messages_sent_total", "Protocol messages written to clients."),
		framesOut:     c("frames_sent_total", "WebSocket frames written to clients (several messages may share one)."),
		bytesOut:      c("sent_bytes_total", "Bytes of WebSocket messages written to clients."),
		publications:  c("publications_total", "Publications this node received from the broker for local subscribers."),
		deliveries:    c("deliveries_total", "Publications handed to local subscribers' queues."),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_disconnects_total", Help: "Closed connections, by close code.",
		}, []string{"code"}),
		batchMessages: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "herald_write_batch_messages", Help: "Messages joined into one frame per write.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		fanoutLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_publish_fanout_seconds",
			Help:    "From a publication's acceptance to the end of its fan-out into every local subscriber's queue.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_recoveries_total", Help: "Subscribe recoveries, by outcome (recovered, failed).",
		}, []string{"outcome"}),
		brokerOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_broker_operations_total", Help: "Broker calls, by operation.",
		}, []string{"op"}),
		brokerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_broker_errors_total", Help: "Broker calls that failed, by operation.",
		}, []string{"op"}),
		commandsByOp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_commands_total", Help: "Client commands handled, by op.",
		}, []string{"op"}),
		refusedUpgrades: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_refused_upgrades_total", Help: "WebSocket upgrades refused by a connection limit, by HTTP status (429, 503).",
		}, []string{"status"}),
		transportConns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_transport_connections", Help: "Open client connections, by transport (websocket, http-stream, sse).",
		}, []string{"transport"}),
		commandErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_command_errors_total", Help: "Client commands answered with an error, by op and error code.",
		}, []string{"op", "code"}),
	}
	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_connections", Help: "Open client connections, connected or not yet."},
			func() float64 { return float64(n.accepted.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_users", Help: "Distinct authenticated users connected."},
			func() float64 { n.sessionsMu.RLock(); defer n.sessionsMu.RUnlock(); return float64(len(n.users)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_channels", Help: "Channels with at least one local subscriber."},
			func() float64 { ch, _ := n.hub.counts(); return float64(ch) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_subscriptions", Help: "Local subscriptions."},
			func() float64 { _, subs := n.hub.counts(); return float64(subs) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_write_queue_bytes", Help: "Bytes waiting in all connections' write queues."},
			func() float64 { return float64(n.queuedBytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_draining", Help: "1 while the node shuts down."},
			func() float64 {
				if n.draining.Load() {
					return 1
				}
				return 0
			}),
	}
	// Series that exist before their first event, so that dashboards and
	// alerts see a zero rather than nothing.
	for _, status := range []string{"429", "503"} {
		m.refusedUpgrades.WithLabelValues(status)
	}
	for _, t := range transportNames {
		m.transportConns.WithLabelValues(t)
	}
	for _, outcome := range []string{"recovered", "failed"} {
		m.recoveries.WithLabelValues(outcome)
	}
	for _, col := range append(gauges, m.connects, m.disconnects, m.slowConsumers, m.stateLosses, m.messagesIn, m.bytesIn,
		m.messagesOut, m.framesOut, m.bytesOut, m.batchMessages, m.publications, m.deliveries,
		m.fanoutLatency, m.recoveries, m.brokerOps, m.brokerErrors, m.commandsByOp, m.commandErrors, m.refusedUpgrades, m.transportConns) {
		if err := reg.Register(col); err != nil {
			n.log.Warn("metric not registered", "error", err)
		}
	}
	return m
}

// disconnected counts a closed connection.
func (m *metrics) disconnected(code int) {
	m.disconnects.WithLabelValues(strconv.Itoa(code)).Inc()
}

// command counts a handled command, and its error when it failed. Unknown
// ops share one label, so clients cannot grow the series.
func (m *metrics) command(op string, errCode int) {
	if !protocol.KnownCommand(op) {
		op = "unknown"
	}
	m.commandsByOp.WithLabelValues(op).Inc()
	if errCode != 0 {
		m.commandErrors.WithLabelValues(op, strconv.Itoa(errCode)).Inc()
	}
}

// fannedOut records one publication's fan-out on this node.
func (m *metrics) fannedOut(acceptedUnixMilli int64, subscribers int) {
	m.publications.Inc()
	m.deliveries.Add(float64(subscribers))
	if acceptedUnixMilli > 0 {
		m.fanoutLatency.Observe(time.Since(time.UnixMilli(acceptedUnixMilli)).Seconds())
	}
}

// queuedBytes sums what waits in every connection's write queue.
func (n *Node) queuedBytes() int {
	n.sessionsMu.RLock()
	all := make([]*Session, 0, len(n.sessions))
	for _, s := range n.sessions {
		all = append(all, s)
	}
	n.sessionsMu.RUnlock()
	total := 0
	for _, s := range all {
		s.mu.Lock()
		total += s.queued
		s.mu.Unlock()
	}
	return total
}
