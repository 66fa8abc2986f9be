package nats

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// store is what the broker keeps in JetStream: the history stream, the
// stream of idempotency keys for channels without history, and the
// presence bucket.
type store struct {
	history  jetstream.Stream
	keys     jetstream.Stream
	presence jetstream.KeyValue
}

// ensureStore creates the streams and the bucket, or updates them to
// Options, and keeps their handles. It runs at Start and again after a
// reconnect, when the server may have lost them.
func (b *Broker) ensureStore(ctx context.Context) error {
	o := b.opts
	hist, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        b.names.historyStream(),
		Description: "Herald channel history (one subject per channel; offsets in the Herald-Offset header)",
		Subjects:    []string{b.names.history(">")},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      o.MaxHistoryAge,
		Storage:     o.storage(),
		Replicas:    o.Replicas,
		Duplicates:  o.IdempotencyWindow,
		AllowDirect: true,
	})
	if err != nil {
		return fmt.Errorf("history stream %s: %w", b.names.historyStream(), err)
	}
	keys, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        b.names.keysStream(),
		Description: "Herald idempotency keys of channels without history",
		Subjects:    []string{b.names.keySubject(">")},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      o.IdempotencyWindow,
		Storage:     o.storage(),
		Replicas:    o.Replicas,
		Duplicates:  o.IdempotencyWindow,
		AllowDirect: true,
	})
	if err != nil {
		return fmt.Errorf("keys stream %s: %w", b.names.keysStream(), err)
	}
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      b.names.presenceBucket(),
		Description: "Herald presence: <channel token>.<client token> -> ClientInfo JSON",
		History:     1,
		TTL:         o.PresenceTTL,
		Storage:     o.storage(),
		Replicas:    o.Replicas,
	})
	if err != nil {
		return fmt.Errorf("presence bucket %s: %w", b.names.presenceBucket(), err)
	}
	b.store.Store(&store{history: hist, keys: keys, presence: kv})
	return nil
}
