package herald_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/memory"
	"github.com/heraldrt/herald/protocol"
)

// metric returns the value of the series name{labels} in reg (0 if absent).
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
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
			if matches(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	return 0
}

func matches(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// eventually waits until the metric reaches want.
func eventually(t *testing.T, reg *prometheus.Registry, want float64, name string, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := metric(t, reg, name, labels...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v, want %v", name, labels, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// flakyBroker is the memory broker with a switch that makes Publish fail,
// as a broker that lost its server would.
type flakyBroker struct {
	*memory.Broker
	down atomic.Bool
}

func (f *flakyBroker) Publish(ctx context.Context, ch string, p *broker.Publication, o broker.PublishOptions) (broker.PublishResult, error) {
	if f.down.Load() {
		return broker.PublishResult{}, errors.Join(broker.ErrUnavailable, errors.New("connection refused"))
	}
	return f.Broker.Publish(ctx, ch, p, o)
}

func (f *flakyBroker) Ping(ctx context.Context) error {
	if f.down.Load() {
		return broker.ErrUnavailable
	}
	return f.Broker.Ping(ctx)
}

func TestMetricsMoveWithEvents(t *testing.T) {
	reg := prometheus.NewRegistry()
	fb := &flakyBroker{Broker: memory.New()}
	ts := startServer(t, herald.Config{Registry: reg, Broker: fb, Channels: herald.ChannelOptions{HistorySize: 10}, WriteQueueSize: 64 << 10})

	c := ts.dial(t)
	eventually(t, reg, 1, "herald_connects_total")
	eventually(t, reg, 1, "herald_connections")

	subscribe(t, c, map[string]any{"channel": "m"})
	eventually(t, reg, 1, "herald_subscriptions")
	eventually(t, reg, 1, "herald_channels")
	eventually(t, reg, 1, "herald_commands_total", "op", "subscribe")

	c.Call(map[string]any{"op": "publish", "channel": "m", "data": 1})
	if _, err := c.NextPush("pub", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, reg, 1, "herald_publications_total")
	eventually(t, reg, 1, "herald_deliveries_total")
	eventually(t, reg, 1, "herald_publish_fanout_seconds")
	if metric(t, reg, "herald_messages_sent_total") < 3 || metric(t, reg, "herald_received_bytes_total") == 0 {
		t.Fatal("message and byte counters did not move")
	}
	c.Call(map[string]any{"op": "rpc", "method": "nope"})
	eventually(t, reg, 1, "herald_command_errors_total", "op", "rpc", "code", "104")

	// Recovery outcomes.
	subscribe(t, ts.dial(t), map[string]any{"channel": "m", "recover": true, "offset": 0, "epoch": "old"})
	eventually(t, reg, 1, "herald_recoveries_total", "outcome", "failed")

	// A broker error.
	fb.down.Store(true)
	if r := c.Call(map[string]any{"op": "publish", "channel": "m", "data": 1}); r.Error == nil {
		t.Fatal("publish succeeded with the broker down")
	} else if r.Error.Code != 100 || r.Error.Message != herald.ErrBrokerUnavailable.Message {
		t.Errorf("publish with the broker down: %+v, want code 100 saying the broker is unavailable", r.Error)
	}
	eventually(t, reg, 1, "herald_broker_errors_total", "op", "publish")
	if err := ts.node.Ready(context.Background()); err == nil {
		t.Fatal("ready with the broker down")
	}
	fb.down.Store(false)
	if err := ts.node.Ready(context.Background()); err != nil {
		t.Fatalf("not ready: %v", err)
	}

	// A slow consumer.
	slow := ts.dial(t)
	subscribe(t, slow, map[string]any{"channel": "flood"})
	pad := make([]byte, 8000)
	for i := range pad {
		pad[i] = 'x'
	}
	for i := 0; i < 2000 && metric(t, reg, "herald_slow_consumer_disconnects_total") == 0; i++ {
		_, _ = ts.node.Publish(context.Background(), "flood", json.RawMessage(`"`+string(pad)+`"`))
	}
	eventually(t, reg, 1, "herald_slow_consumer_disconnects_total")
	eventually(t, reg, 1, "herald_disconnects_total", "code", "3002")

	// A clean close by the client.
	c.Conn.Close(1000, "bye")
	eventually(t, reg, 1, "herald_disconnects_total", "code", "1000")
}

func TestReadyTurnsFalseWhileDraining(t *testing.T) {
	ts := startServer(t, herald.Config{ShutdownWindow: 300 * time.Millisecond})
	c := ts.dial(t)
	if err := ts.node.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() { _ = ts.node.Shutdown(context.Background()) }()
	if _, err := c.NextPush("disconnect", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := ts.node.Ready(context.Background()); err == nil {
		t.Fatal("ready while draining")
	}
	_ = protocol.CloseShutdown
}

func TestStatsSnapshot(t *testing.T) {
	ts := startServer(t, herald.Config{})
	a, b := ts.dial(t), ts.dial(t)
	subscribe(t, a, map[string]any{"channel": "busy"})
	subscribe(t, b, map[string]any{"channel": "busy"})
	subscribe(t, b, map[string]any{"channel": "quiet"})
	publishN(t, ts.node, "busy", 1, 3)
	if _, err := a.NextPush("pub", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	b.Conn.Close(1000, "bye")
	deadline := time.Now().Add(5 * time.Second)
	for {
		// A snapshot is not atomic: the disconnect can be recorded between
		// the count of connections and the list of disconnects. Wait for
		// both.
		st := ts.node.Stats(1)
		if len(st.Disconnects) == 1 && st.Connections == 1 {
			if st.Disconnects[0].Code != 1000 || st.Publications != 3 {
				t.Fatalf("stats %+v", st)
			}
			if len(st.TopChannels) != 1 || st.TopChannels[0].Channel != "busy" {
				t.Fatalf("top channels %+v", st.TopChannels)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no disconnect recorded: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
