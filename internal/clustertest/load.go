package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/client"
)

// Load is steady publishing through the API of random nodes, and clients
// subscribed through nginx, all recorded by a Checker.
type Load struct {
	Checker *Checker
	// Transport is the transport the clients use (default: auto, which is
	// WebSocket where it works).
	Transport client.Transport
	seq       atomic.Int64 // the next sequence number

	nodesMu sync.Mutex
	nodes   []*Node // where publishes go

	stop    chan struct{}
	wg      sync.WaitGroup
	clients []*client.Client
}

// NewLoad returns a Load that publishes through nodes.
func NewLoad(nodes []*Node) *Load {
	return &Load{Checker: NewChecker(), nodes: nodes, stop: make(chan struct{})}
}

// SetNodes changes the nodes that receive publishes.
func (l *Load) SetNodes(nodes []*Node) {
	l.nodesMu.Lock()
	l.nodes = nodes
	l.nodesMu.Unlock()
}

func (l *Load) randomNode() *Node {
	l.nodesMu.Lock()
	defer l.nodesMu.Unlock()
	return l.nodes[rand.IntN(len(l.nodes))]
}

// Subscribe connects n clients to url, each subscribed to every channel,
// and waits until all are subscribed.
func (l *Load) Subscribe(t testing.TB, url string, n int, channels []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range n {
		// Reconnects back off as in production, capped low so that a
		// scenario takes seconds.
		c := client.New(url, client.Options{
			MinReconnectDelay: 100 * time.Millisecond, MaxReconnectDelay: time.Second,
			Transport: l.Transport,
		})
		l.clients = append(l.clients, c)
		t.Cleanup(func() { c.Close() })
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("client %d connect through %s: %v", i, url, err)
		}
		for _, ch := range channels {
			rec := l.Checker.Client(fmt.Sprintf("client-%d", i), ch)
			_, err := c.Subscribe(ctx, ch, client.SubscriptionHandlers{
				OnPublication: func(p client.Publication) {
					var m struct{ Seq int64 }
					if err := json.Unmarshal(p.Data, &m); err == nil {
						rec.Received(m.Seq, p.Offset)
					}
				},
				OnSubscribed: func(e client.SubscribedEvent) {
					rec.Subscribed(e.Resubscribed, e.Recovering, e.Recovered, l.seq.Load())
				},
			})
			if err != nil {
				t.Fatalf("client %d subscribe %s: %v", i, ch, err)
			}
		}
	}
}

// Publish starts one publisher per channel, each publishing every interval
// through a random node's API until Stop.
func (l *Load) Publish(channels []string, interval time.Duration) {
	for _, ch := range channels {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-t.C:
				}
				seq := l.seq.Add(1) - 1
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				err := l.randomNode().Call(ctx, "publish", map[string]any{"channel": ch, "data": map[string]int64{"seq": seq}}, nil)
				cancel()
				if err != nil {
					l.Checker.Failed(err)
					continue
				}
				l.Checker.Acked(ch, seq)
			}
		}()
	}
}

// Stop ends publishing, then waits up to settle for every client to
// receive what was acknowledged (or to report its gaps), and returns the
// check.
func (l *Load) Stop(settle time.Duration) Report {
	close(l.stop)
	l.wg.Wait()
	deadline := time.Now().Add(settle)
	for time.Now().Before(deadline) {
		if l.Checker.Check().Missing == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return l.Checker.Check()
}
