package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
)

// Defaults of Config.
const (
	DefaultQueueSize  = 10000
	DefaultBatchSize  = 100
	DefaultFlushDelay = 50 * time.Millisecond
	DefaultTimeout    = 5 * time.Second
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// Endpoint is a receiver of webhooks.
type Endpoint struct {
	// URL receives the batches as signed JSON POSTs.
	URL string
	// Secret keys the HMAC-SHA256 signature (at least 16 bytes).
	Secret string
	// Events lists the event names it takes; empty means all.
	Events []string
}

// Config configures the webhooks of one node.
type Config struct {
	Endpoints []Endpoint
	// Publications lists the namespaces whose publications are sent as
	// publication events ("" for channels without a namespace); none by
	// default. Each publication is sent once, by the node that accepted it.
	Publications []string
	// Presence is the broker's presence store, which joins the nodes'
	// views into cluster-wide events; nil means this node alone (the
	// embedded broker).
	Presence broker.PresenceStore
	// QueueSize bounds each endpoint's queue, in events; when full, the
	// oldest is dropped. BatchSize bounds the events of one request;
	// FlushDelay is how long a burst may gather before it is sent.
	QueueSize  int
	BatchSize  int
	FlushDelay time.Duration
	// Timeout bounds one request; a failed request is retried after
	// MinBackoff, doubling up to MaxBackoff.
	Timeout    time.Duration
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Client makes the requests; nil means a client of its own.
	Client *http.Client
	// Registry receives the metrics; nil registers none.
	Registry prometheus.Registerer
	// Logger logs failures; nil means slog.Default().
	Logger *slog.Logger
}

// Webhooks turns one node's activity into webhook events and delivers
// them. Create it with New, Attach it to a node, and Close it after the
// node shut down.
type Webhooks struct {
	cfg     Config
	client  *http.Client
	log     *slog.Logger
	m       *metrics
	senders []*sender
	tr      *tracker

	ctx, flush context.Context
	cancel     context.CancelFunc
	flushStop  context.CancelFunc
	wg         sync.WaitGroup // the senders
	trStop     context.CancelFunc
	trDone     chan struct{}
}

// New checks cfg and starts the delivery goroutines (one per endpoint).
func New(cfg Config) (*Webhooks, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("webhook: no endpoint: give at least one URL")
	}
	for _, ep := range cfg.Endpoints {
		u, err := url.Parse(ep.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("webhook: url %q: want an http or https URL, like https://app.example.com/herald/webhooks", ep.URL)
		}
		if len(ep.Secret) < 16 {
			return nil, fmt.Errorf("webhook %s: the secret must have at least 16 bytes; make one with: openssl rand -hex 32", ep.URL)
		}
		for _, e := range ep.Events {
			if !slices.Contains(Names, e) {
				return nil, fmt.Errorf("webhook %s: unknown event %q (known: %v)", ep.URL, e, Names)
			}
		}
	}
	setDefault(&cfg.QueueSize, DefaultQueueSize)
	setDefault(&cfg.BatchSize, DefaultBatchSize)
	setDefault(&cfg.FlushDelay, DefaultFlushDelay)
	setDefault(&cfg.Timeout, DefaultTimeout)
	setDefault(&cfg.MinBackoff, DefaultMinBackoff)
	setDefault(&cfg.MaxBackoff, DefaultMaxBackoff)
	w := &Webhooks{cfg: cfg, client: cfg.Client, log: cfg.Logger, m: newMetrics(cfg.Registry)}
	if w.client == nil {
		w.client = &http.Client{}
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.flush, w.flushStop = context.WithCancel(context.Background())
	for _, ep := range cfg.Endpoints {
		s := &sender{ep: ep, w: w, signal: make(chan struct{}, 1)}
		w.senders = append(w.senders, s)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			s.run(w.ctx, w.flush)
		}()
	}
	w.tr = newTracker(w)
	var trCtx context.Context
	trCtx, w.trStop = context.WithCancel(context.Background())
	w.trDone = make(chan struct{})
	go func() {
		defer close(w.trDone)
		w.tr.run(trCtx)
	}()
	return w, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Attach makes w follow node's connections and subscriptions (it
// registers node.OnActivity), and settle the events owed by the nodes of
// the cluster that crash (node.OnNodeLost; settle.go). Attach w to one
// node only, before it serves clients: the node's name, unique in the
// cluster, is its entry in the broker's presence sets.
func (w *Webhooks) Attach(node *herald.Node) {
	w.tr.node, w.tr.id, w.tr.n = node.Name(), node.Name(), node
	node.OnActivity(w.tr.observe)
	if w.tr.ps != nil {
		node.OnNodeLost(w.tr.nodeLost)
		w.tr.settleAfter(node.Name(), 0) // what an earlier life under this name left
	}
}

// emit queues an event for every endpoint that takes it.
func (w *Webhooks) emit(name, channel, user string) {
	w.send(Event{ID: newID(), Name: name, TimeMS: time.Now().UnixMilli(), Channel: channel, User: user, Node: w.tr.node})
}

// published sends a publication event when its namespace is listed.
func (w *Webhooks) published(a herald.Activity) {
	if len(w.cfg.Publications) == 0 {
		return
	}
	ns, _, found := strings.Cut(a.Channel, ":")
	if !found {
		ns = ""
	}
	if !slices.Contains(w.cfg.Publications, ns) {
		return
	}
	w.send(Event{ID: newID(), Name: Publication, TimeMS: time.Now().UnixMilli(), Channel: a.Channel, User: a.User,
		Node: w.tr.node, Data: a.Data, Binary: a.Binary, Offset: a.Offset})
}

// send queues ev for every endpoint that takes it.
func (w *Webhooks) send(ev Event) {
	name := ev.Name
	for _, s := range w.senders {
		if s.accepts(name) {
			s.enqueue(ev)
		}
	}
}

// Close stops following the node, then delivers what is queued until ctx
// ends, and stops. Call it after the node's Shutdown, so that the events
// of the last disconnects are sent.
func (w *Webhooks) Close(ctx context.Context) error {
	w.trStop()
	<-w.trDone
	w.tr.reconcile(ctx) // the last transitions, after the node's disconnects
	w.cancel()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		w.flushStop()
		return nil
	case <-ctx.Done():
		w.flushStop()
		<-done
		return ctx.Err()
	}
}
