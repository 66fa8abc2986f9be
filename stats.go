package herald

import (
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// recentSize is how many disconnects and errors Stats remembers.
const recentSize = 50

// DisconnectRecord is one recent disconnect, for the dashboard.
type DisconnectRecord struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	User   string    `json:"user,omitempty"`
	Code   int       `json:"code"`
	Reason string    `json:"reason"`
}

// ErrorRecord is one recent error the node logged, for the dashboard.
type ErrorRecord struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// Stats is a snapshot of a node for dashboards: its Info, running totals
// (compute rates from two snapshots), the busiest channels, and what went
// wrong lately.
type Stats struct {
	NodeInfo
	Time          time.Time     `json:"time"`
	Connects      uint64        `json:"connects"`
	MessagesIn    uint64        `json:"messages_in"`
	MessagesOut   uint64        `json:"messages_out"`
	BytesIn       uint64        `json:"bytes_in"`
	BytesOut      uint64        `json:"bytes_out"`
	Publications  uint64        `json:"publications"`
	Deliveries    uint64        `json:"deliveries"`
	SlowConsumers uint64        `json:"slow_consumers"`
	TopChannels   []ChannelInfo `json:"top_channels"`
	// Nodes lists every live node of the cluster (Node.Nodes), this one
	// included.
	Nodes       []NodeInfo         `json:"nodes"`
	Disconnects []DisconnectRecord `json:"recent_disconnects"`
	Errors      []ErrorRecord      `json:"recent_errors"`
}

// recent keeps the latest disconnects and errors in two small rings.
type recent struct {
	mu          sync.Mutex
	disconnects []DisconnectRecord
	errors      []ErrorRecord
}

func (r *recent) disconnect(d DisconnectRecord) {
	r.mu.Lock()
	r.disconnects = appendBounded(r.disconnects, d)
	r.mu.Unlock()
}

func (r *recent) error(msg string) {
	r.mu.Lock()
	r.errors = appendBounded(r.errors, ErrorRecord{Time: time.Now(), Message: msg})
	r.mu.Unlock()
}

func appendBounded[T any](s []T, v T) []T {
	if len(s) >= recentSize {
		copy(s, s[1:])
		s = s[:len(s)-1]
	}
	return append(s, v)
}

// Stats returns a snapshot of the node; topChannels caps the channel list
// (the busiest by subscribers).
func (n *Node) Stats(topChannels int) Stats {
	m := n.metrics
	st := Stats{
		NodeInfo:      n.Info(),
		Time:          time.Now(),
		Connects:      counterValue(m.connects),
		MessagesIn:    counterValue(m.messagesIn),
		MessagesOut:   counterValue(m.messagesOut),
		BytesIn:       counterValue(m.bytesIn),
		BytesOut:      counterValue(m.bytesOut),
		Publications:  counterValue(m.publications),
		Deliveries:    counterValue(m.deliveries),
		SlowConsumers: counterValue(m.slowConsumers),
	}
	chans := n.hub.channels(nil)
	sort.SliceStable(chans, func(i, j int) bool { return chans[i].Subscribers > chans[j].Subscribers })
	if len(chans) > topChannels {
		chans = chans[:topChannels]
	}
	st.TopChannels = chans
	st.Nodes = n.Nodes()
	n.recent.mu.Lock()
	st.Disconnects = append([]DisconnectRecord{}, n.recent.disconnects...)
	st.Errors = append([]ErrorRecord{}, n.recent.errors...)
	n.recent.mu.Unlock()
	return st
}

func counterValue(c prometheus.Counter) uint64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return uint64(m.GetCounter().GetValue())
}
