package redis_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
	"github.com/heraldrt/herald/internal/browsertest"
)

// TestOnRedisCluster runs the two-node suite on a real Redis Cluster of
// three masters that the test starts (redis-server --cluster-enabled,
// joined by redis-cli --cluster create), reached through a URL that lists
// the seeds. Every key of a channel carries the channel as its hash tag, so
// the Lua scripts run on one shard; pub/sub reaches every node of the
// cluster. (The one-node suite is not run here: Redis Cluster forwards
// pub/sub between its nodes asynchronously, so a join published just
// before a node subscribes may still reach it, which that suite forbids;
// see the package doc.)
func TestOnRedisCluster(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		browsertest.NeedService(t, "redis cluster test: redis-cli is not installed (apt-get install redis-tools)")
	}
	var seeds []string
	for range 3 {
		r := startOwnRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(t.TempDir(), "nodes.conf"))
		seeds = append(seeds, "127.0.0.1:"+strconv.Itoa(r.port))
	}
	create := append(append([]string{"--cluster", "create"}, seeds...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", create...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, seed := range seeds {
		port := seed[strings.LastIndexByte(seed, ':')+1:]
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, _ := exec.Command("redis-cli", "-p", port, "cluster", "info").Output()
			if strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cluster is not ok on %s:\n%s", seed, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	url := "redis://" + strings.Join(seeds, ",")
	t.Run("Cluster", func(t *testing.T) {
		brokertest.RunCluster(t, func(t *testing.T) (broker.Broker, broker.Broker) {
			prefix := "n" + strconv.FormatInt(time.Now().UnixNano(), 36)
			return newBroker(t, url, prefix), newBroker(t, url, prefix)
		})
	})
}

// TestThroughSentinel runs the two-node suite through Redis Sentinel: a
// master and a sentinel that monitors it, both the test's own, reached with
// a redis+sentinel:// URL that names the sentinel and the master's name.
func TestThroughSentinel(t *testing.T) {
	master := startOwnRedis(t)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	sentinel := startOwnRedisWith(t, func(port int) []string {
		text := "port " + strconv.Itoa(port) + "\nbind 127.0.0.1\n" +
			"sentinel monitor mymaster 127.0.0.1 " + strconv.Itoa(master.port) + " 1\n" +
			"sentinel down-after-milliseconds mymaster 1000\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{conf, "--sentinel"}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("redis-cli", "-p", strconv.Itoa(sentinel.port), "sentinel", "get-master-addr-by-name", "mymaster").Output()
		if strings.Contains(string(out), strconv.Itoa(master.port)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinel does not know the master: %s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	url := "redis+sentinel://127.0.0.1:" + strconv.Itoa(sentinel.port) + "/mymaster"
	brokertest.RunCluster(t, func(t *testing.T) (broker.Broker, broker.Broker) {
		prefix := "s" + strconv.FormatInt(time.Now().UnixNano(), 36)
		return newBroker(t, url, prefix), newBroker(t, url, prefix)
	})
}
