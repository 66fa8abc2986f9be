package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker/redis"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/redistest"
)

// TestURLAndPIDLists: --url and --server-pid take comma-separated lists;
// each URL is checked like a single one, the API defaults to the first
// URL's host, and a PID named twice (it would be counted twice) or a bad
// one is refused.
func TestURLAndPIDLists(t *testing.T) {
	c, err := parseConfig([]string{"fanout", "--api-key", "k", "--rate", "1",
		"--url", "ws://127.0.0.1:18001/ws, ws://127.0.0.2:18002/ws", "--server-pid", "11,22,33"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.URLs, []string{"ws://127.0.0.1:18001/ws", "ws://127.0.0.2:18002/ws"}) {
		t.Errorf("URLs %q", c.URLs)
	}
	if c.APIURL != "http://127.0.0.1:18001/api" {
		t.Errorf("API URL %q, want the first URL's host", c.APIURL)
	}
	if !slices.Equal(c.ServerPIDs, []int{11, 22, 33}) {
		t.Errorf("PIDs %v", c.ServerPIDs)
	}
	if c, err := parseConfig([]string{"idle", "--url", "ws://127.0.0.1:1/ws"}, io.Discard); err != nil ||
		len(c.URLs) != 1 || c.ServerPIDs != nil {
		t.Errorf("one URL, no PID: %+v, %v", c, err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"idle", "--url", "ws://127.0.0.1:1/ws,ws://10.1.2.3:2/ws"}, "loopback"},
		{[]string{"idle", "--url", "ws://127.0.0.1:1/ws,"}, "ws://host:port/path"},
		{[]string{"idle", "--url", "ws://127.0.0.1:1/ws,wss://127.0.0.1:2/ws"}, "wss is not supported"},
		{[]string{"idle", "--server-pid", "12,12"}, "counted twice"},
		{[]string{"idle", "--server-pid", "12,x"}, "not a process id"},
		{[]string{"idle", "--server-pid", "0"}, "not a process id"},
	} {
		var out, errb bytes.Buffer
		if code := Main(tc.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("Main(%q) = %d, %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}

	// With --allow-remote, no URL of the list is resolved or refused.
	if c, err := parseConfig([]string{"idle", "--allow-remote", "--url", "ws://127.0.0.1:1/ws,ws://192.0.2.1:2/ws"}, io.Discard); err != nil || len(c.URLs) != 2 {
		t.Errorf("--allow-remote with a list: %+v, %v", c.URLs, err)
	}
}

// TestClientsSpreadOverURLs: with two URLs, client i dials URL i mod 2,
// across workers, so each node gets half of the clients; the server
// figures of --server-pid with two PIDs are the sums of both processes.
func TestClientsSpreadOverURLs(t *testing.T) {
	var connects [2]atomic.Int64
	var urls []string
	for i := range connects {
		s, node := startNode(t, herald.Config{Name: "node" + strconv.Itoa(i)})
		node.OnConnect(func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
			connects[i].Add(1)
			return herald.ConnectReply{}, nil
		})
		urls = append(urls, s.ws)
	}
	pids := []int{os.Getpid(), os.Getppid()} // two processes that exist
	args := []string{"idle", "--clients", "101", "--workers", "2", "--duration", "500ms",
		"--server-pid", strconv.Itoa(pids[0]) + "," + strconv.Itoa(pids[1])}
	r := runJSON(t, testServer{ws: strings.Join(urls, ",")}, args...)
	if r.Connected != 101 || r.Errors != 0 {
		t.Fatalf("connected %d, errors %v", r.Connected, r.ErrorKinds)
	}
	if a, b := connects[0].Load(), connects[1].Load(); a != 51 || b != 50 {
		t.Errorf("connects per node %d and %d; want 51 and 50", a, b)
	}
	if r.URL != urls[0] || !slices.Equal(r.URLs, urls) {
		t.Errorf("result URL %q, URLs %q; want %q", r.URL, r.URLs, urls)
	}
	s := r.Server
	if s == nil || s.PID != pids[0] || !slices.Equal(s.PIDs, pids) || len(s.Processes) != 2 {
		t.Fatalf("server %+v", s)
	}
	var cpu float64
	var before, after int64
	for i, p := range s.Processes {
		if p.PID != pids[i] || p.Name == "" || p.RSSBeforeKiB <= 0 || p.RSSAfterKiB <= 0 {
			t.Errorf("process %d: %+v", i, p)
		}
		cpu += p.CPUSeconds
		before += p.RSSBeforeKiB
		after += p.RSSAfterKiB
	}
	if s.CPUSeconds != cpu || s.RSSBeforeKiB != before || s.RSSAfterKiB != after {
		t.Errorf("sums %+v; want CPU %v, RSS %d -> %d", s, cpu, before, after)
	}

	// The text report names both URLs and each process.
	var out, errb bytes.Buffer
	textArgs := append(args, "--url", strings.Join(urls, ","), "--quiet")
	if code := Main(textArgs, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{urls[0] + ", " + urls[1], "server (2 PIDs)", "sum: RSS", "pid " + strconv.Itoa(pids[1])} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestFanoutAcrossNodesOnRedis: two nodes joined by the shared Redis (a
// key prefix of the test's own, deleted afterwards), subscribers split
// over both, publications through the first node's API: every
// subscriber, on either node, gets every publication once.
func TestFanoutAcrossNodesOnRedis(t *testing.T) {
	const redisURL = "redis://127.0.0.1:6379/0"
	prefix := fmt.Sprintf("heraldbenchtest-%x", rand.Uint64())
	var urls []string
	var apiURL string
	for i := range 2 {
		b, err := redis.New(redisURL, redis.Options{Prefix: prefix, Timeout: 2 * time.Second})
		if err == nil {
			err = b.Ping(context.Background())
		}
		if err != nil {
			if b != nil {
				_ = b.Close(context.Background())
			}
			browsertest.NeedService(t, "no Redis at %s (%v): start one (apt-get install redis-server)", redisURL, err)
		}
		if i == 0 {
			t.Cleanup(func() { redistest.DeleteKeys("127.0.0.1:6379", prefix+"*") })
		}
		s, _ := startNode(t, herald.Config{Name: "node" + strconv.Itoa(i), Broker: b})
		urls = append(urls, s.ws)
		if i == 0 {
			apiURL = s.api
		}
	}
	r := runJSON(t, testServer{ws: strings.Join(urls, ","), api: apiURL},
		"fanout", "--clients", "200", "--workers", "2", "--rate", "20", "--duration", "1s")
	if r.Connected != 200 || r.Publications == nil || r.Publications.OK == 0 || r.Publications.Failed != 0 {
		t.Fatalf("connected %d, publications %+v", r.Connected, r.Publications)
	}
	expectEveryDelivery(t, r, 200)
}
