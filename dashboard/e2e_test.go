package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/dashboard"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// e2eScript returns the absolute path of e2e/dashboard.e2e.mjs after
// checking that node, Chromium and playwright-core (from web/e2e) are
// installed.
func e2eScript(t *testing.T) string {
	t.Helper()
	browsertest.Require(t, filepath.Join("..", "web", "e2e"))
	script, err := filepath.Abs(filepath.Join("e2e", "dashboard.e2e.mjs")) // tests run in dashboard/
	if err != nil {
		t.Fatal(err)
	}
	return script
}

// TestDashboardInChromium loads the dashboard in headless Chromium, has it
// read the connection count, connects a client, and waits for the page to
// show it. Meanwhile clients publish, subscribe, fail and disconnect so that
// every part of the page has something to show. The screenshot goes to
// $HERALD_DASHBOARD_SCREENSHOT, or herald-dashboard.png in the temporary
// directory.
func TestDashboardInChromium(t *testing.T) {
	script := e2eScript(t)
	s := start(t, herald.Config{Name: "herald-eu-1"}, dashboard.Config{
		Password: testPassword,
		Interval: 250 * time.Millisecond,
	})
	traffic(t, s)

	shot := os.Getenv("HERALD_DASHBOARD_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(os.TempDir(), "herald-dashboard.png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, s.url+"/dashboard/", testPassword, shot)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "CHROMIUM="+browsertest.ChromiumPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	asked := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(&out, line)
		if strings.HasPrefix(line, "@@count ") && !asked {
			asked = true
			c := wstest.Dial(t, wstest.WSURL(s.url, "/ws"))
			c.Connect(map[string]any{"data": map[string]any{"user": "erin"}})
		}
	}
	err = cmd.Wait()
	t.Logf("node dashboard.e2e.mjs:\n%s%s", out.String(), stderr.String())
	if err != nil {
		t.Fatalf("dashboard.e2e.mjs failed: %v", err)
	}
	if !asked {
		t.Fatal("the script never asked for a connection")
	}
	t.Logf("screenshot: %s", shot)
}

// traffic gives the node users, channels, publications at a changing rate,
// disconnects with several codes and an error, until the test ends.
func traffic(t *testing.T, s *server) {
	t.Helper()
	s.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		var d struct {
			User string `json:"user"`
		}
		_ = json.Unmarshal(e.Data, &d)
		return herald.ConnectReply{User: d.User}, nil
	})
	s.node.OnRPC("inventory", func(context.Context, *herald.Session, json.RawMessage) (any, error) {
		return nil, errors.New("inventory service did not answer within 2s")
	})
	dial := func(user string, channels ...string) *wstest.Client {
		c := wstest.Dial(t, wstest.WSURL(s.url, "/ws"))
		c.Connect(map[string]any{"data": map[string]any{"user": user}})
		for _, ch := range channels {
			if r := c.Call(map[string]any{"op": "subscribe", "channel": ch}); r.Error != nil {
				t.Fatalf("subscribe %s: %v", ch, r.Error)
			}
		}
		return c
	}
	users := []string{"alice", "bob", "carol", "dave", "frank", "grace", "heidi"}
	for i, u := range users {
		chans := []string{"chat:lobby"}
		if i%2 == 0 {
			chans = append(chans, "prices:btc-usd")
		}
		if i%3 == 0 {
			chans = append(chans, "news")
		}
		if i < 2 {
			chans = append(chans, "user:"+u)
		}
		dial(u, chans...)
	}
	dial("alice", "chat:support") // a second tab

	// Gone clients: closed normally, dropped, and kicked.
	_ = dial("mallory").Conn.Close(1000, "bye")
	_ = dial("", "news").Conn.CloseNow()
	dial("trent", "chat:lobby")
	if err := s.node.Disconnect(context.Background(), "trent", "", protocol.CloseForceReconnect, "rebalancing"); err != nil {
		t.Fatalf("disconnect trent: %v", err)
	}
	dial("peggy").Call(map[string]any{"op": "rpc", "method": "inventory", "data": map[string]any{"sku": 42}})

	// Publications at a rate that rises and falls, from the backend and
	// from a client, until the test ends.
	writer := dial("judy")

	// The page must see only the test's own connection arrive: wait for the
	// gone clients to be gone.
	const open = 10 // the seven users, alice's second tab, peggy and judy
	deadline := time.Now().Add(10 * time.Second)
	for s.node.Connections() != open {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections, want %d", s.node.Connections(), open)
		}
		time.Sleep(10 * time.Millisecond)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		startAt := time.Now()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			phase := time.Since(startAt).Seconds()
			burst := 1 + int(2*(1+math.Sin(phase/1.5)))
			for j := 0; j < burst; j++ {
				ch := "chat:lobby"
				if (i+j)%3 == 0 {
					ch = "prices:btc-usd"
				}
				data := fmt.Sprintf(`{"n":%d,"text":"message %d with a little padding to make bytes visible"}`, i, i)
				_, _ = s.node.Publish(context.Background(), ch, json.RawMessage(data))
			}
			if i%3 == 0 {
				_ = writer.SendRaw(fmt.Sprintf(`{"id":%d,"op":"publish","channel":"chat:lobby","data":{"text":"hi %d"}}`, i+1, i))
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
}
