package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/api"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/memory"
)

// downBroker is a broker whose server is away: publishing and reading
// history fail as a distributed broker's calls do then.
type downBroker struct{ *memory.Broker }

func (downBroker) Publish(context.Context, string, *broker.Publication, broker.PublishOptions) (broker.PublishResult, error) {
	return broker.PublishResult{}, errors.Join(broker.ErrUnavailable, errors.New("dial tcp: connection refused"))
}

func (downBroker) History(context.Context, string, broker.HistoryOptions) (broker.HistoryResult, error) {
	return broker.HistoryResult{}, errors.Join(broker.ErrUnavailable, errors.New("i/o timeout"))
}

// TestBrokerUnavailableIs503: while the broker is away, publish and
// history answer 503 with a message that says so and how to retry, never
// a 200 and never a bare internal error.
func TestBrokerUnavailableIs503(t *testing.T) {
	s := start(t, herald.Config{Broker: downBroker{memory.New()}, Channels: herald.ChannelOptions{HistorySize: 10}}, api.Config{Key: testKey})
	for _, call := range []struct{ method, body string }{
		{"publish", `{"channel":"news","data":1}`},
		{"history", `{"channel":"news"}`},
	} {
		a := s.do(t, http.MethodPost, "/api/"+call.method, strings.NewReader(call.body), map[string]string{"X-API-Key": testKey})
		msg := a.expectError(t, http.StatusServiceUnavailable, 100)
		if !strings.Contains(msg, "broker is unavailable") || !strings.Contains(msg, "idempotency key") {
			t.Errorf("%s: message %q does not say the broker is away and how to retry", call.method, msg)
		}
	}
}
