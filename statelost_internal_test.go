package herald

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// TestStateLossSendsSubscribersToRecover: when the broker reports that it
// could not deliver a channel's publications in order, the channel's
// local subscribers are closed with 3003 (reconnect and recover), and
// nobody else is touched.
func TestStateLossSendsSubscribersToRecover(t *testing.T) {
	n, err := New(Config{Channels: ChannelOptions{HistorySize: 10}, ShutdownWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler())
	defer srv.Close()
	defer n.Shutdown(context.Background())
	url := wstest.WSURL(srv.URL, "/")

	lost, other := wstest.Dial(t, url), wstest.Dial(t, url)
	lost.Connect()
	other.Connect()
	if rep := lost.Call(map[string]any{"op": "subscribe", "channel": "news"}); rep.Error != nil {
		t.Fatal(rep.Error)
	}
	if rep := other.Call(map[string]any{"op": "subscribe", "channel": "sports"}); rep.Error != nil {
		t.Fatal(rep.Error)
	}

	(*brokerEvents)(n).HandleStateLoss("news")
	if code := lost.ExpectClose(5 * time.Second); code != protocol.CloseInsufficientState {
		t.Fatalf("news subscriber closed with %d, want %d", code, protocol.CloseInsufficientState)
	}
	if rep := other.Call(map[string]any{"op": "publish", "channel": "sports", "data": 1}); rep.Error != nil {
		t.Fatalf("the other client was touched: %v", rep.Error)
	}
	var m dto.Metric
	if err := n.metrics.stateLosses.Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		t.Errorf("herald_broker_state_losses_total = %v (%v), want 1", m.GetCounter().GetValue(), err)
	}
	(*brokerEvents)(n).HandleStateLoss("nobody-here") // no subscribers: nothing happens
}
