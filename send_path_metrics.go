package herald

import (
	ws "github.com/heraldrt/herald/transport/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// registerSendPathMetrics shows the send path the WebSocket transport
// chose at start (Config.IOUring) and the batched path's counters.
func (n *Node) registerSendPathMetrics(reg prometheus.Registerer) {
	path := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "herald_send_path",
		Help: "1 for the send path chosen at start (io_uring: batched submissions; write: one write(2) per frame), 0 for the other.",
	}, []string{"path"})
	for _, p := range []string{ws.SendPathIOUring, ws.SendPathWrite} {
		v := 0.0
		if p == n.server.SendPath() {
			v = 1
		}
		path.WithLabelValues(p).Set(v)
	}
	counter := func(name, help string, f func(ws.SendStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "herald_send_" + name, Help: help},
			func() float64 { return float64(f(n.server.SendStats())) })
	}
	for _, c := range []prometheus.Collector{
		path,
		counter("ring_submissions_total", "io_uring_enter calls that submitted a round of sends (io_uring path).",
			func(s ws.SendStats) uint64 { return s.Rounds }),
		counter("ring_sends_total", "Sends submitted through io_uring (io_uring path).",
			func(s ws.SendStats) uint64 { return s.Sends }),
		counter("ring_handoffs_total", "io_uring sends that found the socket full (EAGAIN or a partial send) and handed the rest to the poller's buffered write.",
			func(s ws.SendStats) uint64 { return s.Handoffs }),
	} {
		if err := reg.Register(c); err != nil {
			n.log.Warn("metric not registered", "error", err)
		}
	}
}
