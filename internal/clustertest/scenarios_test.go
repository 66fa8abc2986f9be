package clustertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/client"
	"github.com/heraldrt/herald/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// presenceTTL is how long the entries of a crashed node outlive it in
// these tests (production uses a longer one; see docs/deployment.md).
const presenceTTL = 2 * time.Second

var channels = []string{"news", "sports", "weather"}

// testCluster is three nodes on one broker behind nginx, with clients and
// publishers running.
type testCluster struct {
	broker *Broker
	nodes  []*Node
	nginx  *LoadBalancer
	load   *Load
}

func startCluster(t *testing.T, kind string, clients int) *testCluster {
	t.Helper()
	return startClusterWith(t, kind, clients, client.TransportAuto)
}

// startClusterWith is startCluster with the clients on transport.
func startClusterWith(t *testing.T, kind string, clients int, transport client.Transport) *testCluster {
	t.Helper()
	c := &testCluster{broker: StartBroker(t, kind)}
	broker := c.broker.URL() + "?presence_ttl=" + presenceTTL.String()
	for i := range 3 {
		c.nodes = append(c.nodes, StartNode(t, fmt.Sprintf("node-%d", i+1), broker,
			"--history-size", "2000", "--presence", "--announce-interval", "500ms"))
	}
	c.nginx = StartNginx(t, c.nodes)
	c.load = NewLoad(c.nodes)
	c.load.Transport = transport
	c.load.Subscribe(t, c.nginx.WSURL(), clients, channels)
	return c
}

// finish stops the load, prints the counts, and fails on a broken promise.
func (c *testCluster) finish(t *testing.T) Report {
	t.Helper()
	rep := c.load.Stop(10 * time.Second)
	t.Logf("counts: %v", rep)
	if !rep.OK() {
		t.Errorf("delivery promises broken: %v\n%s", rep, rep.Summary(10))
	}
	if rep.Acknowledged == 0 || rep.Delivered == 0 {
		t.Errorf("nothing was published or delivered: %v", rep)
	}
	return rep
}

// presenceCount returns how many clients a node lists in channel.
func presenceCount(t *testing.T, n *Node, channel string) int {
	t.Helper()
	var res struct {
		Clients map[string]any `json:"clients"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := n.Call(ctx, "presence", map[string]string{"channel": channel}, &res); err != nil {
		t.Fatalf("presence on %s: %v", n.Name, err)
	}
	return len(res.Clients)
}

// brokers are the distributed brokers every scenario runs on.
var brokers = []string{"redis", "nats"}

// onEachBroker runs scenario as a subtest per broker.
func onEachBroker(t *testing.T, scenario func(t *testing.T, kind string)) {
	for _, kind := range brokers {
		t.Run(kind, func(t *testing.T) { scenario(t, kind) })
	}
}

// TestClusterThroughNginx: three nodes behind nginx configured as
// docs/deployment.md says are one system: a publication through any node's
// API reaches every client, wherever nginx placed it; every node lists the
// whole cluster; presence is shared.
func TestClusterThroughNginx(t *testing.T) {
	onEachBroker(t, func(t *testing.T, kind string) {
		c := startCluster(t, kind, 6)
		c.load.Publish(channels, 20*time.Millisecond)
		time.Sleep(1500 * time.Millisecond)
		c.finish(t)

		var info struct {
			Nodes []struct {
				Name        string `json:"name"`
				Connections int    `json:"connections"`
			} `json:"nodes"`
		}
		if err := c.nodes[0].Call(context.Background(), "info", struct{}{}, &info); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range info.Nodes {
			total += n.Connections
		}
		if len(info.Nodes) != 3 || total != 6 {
			t.Errorf("/api/info lists %d nodes with %d connections, want 3 nodes and 6 connections: %+v", len(info.Nodes), total, info.Nodes)
		}
		for _, n := range c.nodes {
			if got := presenceCount(t, n, "news"); got != 6 {
				t.Errorf("presence of news on %s: %d clients, want 6", n.Name, got)
			}
		}
	})
}

// TestKillNodeUnderLoad: kill -9 one of three nodes while publishing: its
// clients reconnect through nginx to the others and recover with no gap,
// and its presence entries expire within their TTL.
func TestKillNodeUnderLoad(t *testing.T) {
	onEachBroker(t, func(t *testing.T, kind string) {
		c := startCluster(t, kind, 6)
		c.load.Publish(channels, 20*time.Millisecond)
		time.Sleep(time.Second)
		victim := c.nodes[1]
		victim.Kill()
		c.load.SetNodes([]*Node{c.nodes[0], c.nodes[2]})
		time.Sleep(2 * time.Second)
		rep := c.finish(t)
		if rep.Reported != 0 {
			t.Errorf("a node crash should be recovered from history, not reported: %v", rep)
		}
		// Six clients are connected; the dead node's entries must go.
		deadline := time.Now().Add(presenceTTL + 3*time.Second)
		for presenceCount(t, c.nodes[0], "news") != 6 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if got := presenceCount(t, c.nodes[0], "news"); got != 6 {
			t.Errorf("presence of news after the crash: %d entries, want the 6 live clients", got)
		}
	})
}

// TestRestartBrokerMidStream: the broker restarts while publishing:
// publishes during the outage fail with a clear error, the nodes
// reconnect, and clients recover or are told they cannot. Redis (without
// persistence, as tests run it) loses its data, so its clients must be
// told; NATS keeps its store on disk.
func TestRestartBrokerMidStream(t *testing.T) {
	onEachBroker(t, func(t *testing.T, kind string) {
		c := startCluster(t, kind, 4)
		c.load.Publish(channels, 20*time.Millisecond)
		time.Sleep(time.Second)
		c.broker.Restart(t, time.Second)
		waitPublishable(t, c.nodes, 15*time.Second)
		time.Sleep(time.Second)
		rep := c.finish(t)
		if rep.Failed == 0 {
			t.Errorf("no publish failed while the broker was down: %v", rep)
		}
		expectClearErrors(t, rep)
		if kind == "redis" && rep.Reported == 0 {
			t.Errorf("Redis lost its data, yet no client was told recovered:false: %v", rep)
		}
	})
}

// TestStallBroker: the broker stops answering for two seconds (SIGSTOP):
// publishes time out with a clear error, and nothing acknowledged is lost.
func TestStallBroker(t *testing.T) {
	onEachBroker(t, func(t *testing.T, kind string) {
		c := startCluster(t, kind, 4)
		c.load.Publish(channels, 20*time.Millisecond)
		time.Sleep(time.Second)
		c.broker.Stall(t, 2*time.Second)
		waitPublishable(t, c.nodes, 15*time.Second)
		time.Sleep(time.Second)
		rep := c.finish(t)
		if rep.Failed == 0 {
			t.Errorf("no publish failed while the broker was stalled: %v", rep)
		}
		expectClearErrors(t, rep)
	})
}

// TestRollingRestart: every node restarts in turn (SIGTERM, start again):
// clients move to the others with no gap.
func TestRollingRestart(t *testing.T) {
	onEachBroker(t, func(t *testing.T, kind string) {
		c := startCluster(t, kind, 6)
		c.load.Publish(channels, 20*time.Millisecond)
		time.Sleep(500 * time.Millisecond)
		for i, n := range c.nodes {
			others := append(append([]*Node{}, c.nodes[:i]...), c.nodes[i+1:]...)
			c.load.SetNodes(others)
			n.Stop(t)
			n.Restart(t)
			c.load.SetNodes(c.nodes)
			time.Sleep(500 * time.Millisecond)
		}
		rep := c.finish(t)
		if rep.Reported != 0 {
			t.Errorf("a rolling restart should be recovered from history, not reported: %v", rep)
		}
	})
}

// waitPublishable waits until a publish through every node succeeds.
func waitPublishable(t *testing.T, nodes []*Node, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, n := range nodes {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := n.Call(ctx, "publish", map[string]any{"channel": "probe", "data": 1}, nil)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("publishing through %s still fails: %v", n.Name, err)
			}
			if !strings.Contains(err.Error(), "503") && !strings.Contains(err.Error(), "unavailable") {
				t.Logf("publish through %s: %v", n.Name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// expectClearErrors checks that publishes failed with the API's answer for
// a broker that is away: 503 and a message that says so.
func expectClearErrors(t *testing.T, rep Report) {
	t.Helper()
	t.Logf("publish errors: %q", rep.FailedWith)
	for _, msg := range rep.FailedWith {
		if !strings.Contains(msg, "503") || !strings.Contains(msg, "broker is unavailable") {
			t.Errorf("a publish failed without saying the broker is away: %s", msg)
		}
	}
}

// TestFallbackClientsThroughNginx: clients that cannot use WebSocket
// (HTTP-streaming and Server-Sent Events) behind nginx, without sticky
// sessions: each command they POST may land on any node, which routes it
// through the broker to the node holding the stream. They subscribe, get
// every publication, and recover when their node is killed.
func TestFallbackClientsThroughNginx(t *testing.T) {
	for _, transport := range []client.Transport{client.TransportHTTPStream, client.TransportSSE} {
		t.Run(string(transport), func(t *testing.T) {
			onEachBroker(t, func(t *testing.T, kind string) {
				c := startClusterWith(t, kind, 4, transport)
				c.load.Publish(channels, 20*time.Millisecond)
				time.Sleep(time.Second)
				c.nodes[1].Kill()
				c.load.SetNodes([]*Node{c.nodes[0], c.nodes[2]})
				time.Sleep(1500 * time.Millisecond)
				rep := c.finish(t)
				if rep.Reported != 0 {
					t.Errorf("a node crash should be recovered from history, not reported: %v", rep)
				}
			})
		})
	}
}
