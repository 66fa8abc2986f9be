package herald

import (
	"context"

	"github.com/heraldrt/herald/broker"
)

// instrumentedBroker counts the node's calls to its broker, and their
// failures, by operation.
type instrumentedBroker struct {
	b       broker.Broker
	m       *metrics
	onError func(msg string) // remembers the error for Stats
}

var _ broker.Broker = (*instrumentedBroker)(nil)

func (ib *instrumentedBroker) count(op string, err error) error {
	ib.m.brokerOps.WithLabelValues(op).Inc()
	if err != nil {
		ib.m.brokerErrors.WithLabelValues(op).Inc()
		if ib.onError != nil {
			ib.onError("broker " + op + ": " + err.Error())
		}
	}
	return err
}

func (ib *instrumentedBroker) Start(ctx context.Context, h broker.EventHandler) error {
	return ib.count("start", ib.b.Start(ctx, h))
}

func (ib *instrumentedBroker) Subscribe(ctx context.Context, ch string) error {
	return ib.count("subscribe", ib.b.Subscribe(ctx, ch))
}

func (ib *instrumentedBroker) Unsubscribe(ctx context.Context, ch string) error {
	return ib.count("unsubscribe", ib.b.Unsubscribe(ctx, ch))
}

func (ib *instrumentedBroker) Publish(ctx context.Context, ch string, pub *broker.Publication, o broker.PublishOptions) (broker.PublishResult, error) {
	res, err := ib.b.Publish(ctx, ch, pub, o)
	return res, ib.count("publish", err)
}

func (ib *instrumentedBroker) PublishControl(ctx context.Context, data []byte) error {
	return ib.count("control", ib.b.PublishControl(ctx, data))
}

func (ib *instrumentedBroker) PublishJoin(ctx context.Context, ch string, info *broker.ClientInfo) error {
	return ib.count("join", ib.b.PublishJoin(ctx, ch, info))
}

func (ib *instrumentedBroker) PublishLeave(ctx context.Context, ch string, info *broker.ClientInfo) error {
	return ib.count("leave", ib.b.PublishLeave(ctx, ch, info))
}

func (ib *instrumentedBroker) History(ctx context.Context, ch string, o broker.HistoryOptions) (broker.HistoryResult, error) {
	res, err := ib.b.History(ctx, ch, o)
	return res, ib.count("history", err)
}

func (ib *instrumentedBroker) Close(ctx context.Context) error {
	return ib.count("close", ib.b.Close(ctx))
}

// instrumentedPresence counts presence store calls.
type instrumentedPresence struct {
	ps broker.PresenceStore
	ib *instrumentedBroker
}

var _ broker.PresenceStore = (*instrumentedPresence)(nil)

func (ip *instrumentedPresence) AddPresence(ctx context.Context, ch string, info *broker.ClientInfo) error {
	return ip.ib.count("presence_add", ip.ps.AddPresence(ctx, ch, info))
}

func (ip *instrumentedPresence) RemovePresence(ctx context.Context, ch, client string) error {
	return ip.ib.count("presence_remove", ip.ps.RemovePresence(ctx, ch, client))
}

func (ip *instrumentedPresence) Presence(ctx context.Context, ch string) (map[string]*broker.ClientInfo, error) {
	res, err := ip.ps.Presence(ctx, ch)
	return res, ip.ib.count("presence", err)
}

// ping checks that the broker answers, for readiness; a broker that cannot
// be pinged is taken as ready while it is open.
func (ib *instrumentedBroker) ping(ctx context.Context) error {
	if p, ok := ib.b.(broker.Pinger); ok {
		return ib.count("ping", p.Ping(ctx))
	}
	return nil
}
