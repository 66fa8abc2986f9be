package cli

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// These tests keep the promises `herald serve --help` makes about its
// limits, each through the serve path with the limit set low.

// expectError fails the test unless rep is an error with code.
func expectError(t *testing.T, what string, rep protocol.ReplyFrame, code int) {
	t.Helper()
	if rep.Error == nil || rep.Error.Code != code {
		t.Errorf("%s: %+v, want error %d", what, rep, code)
	}
}

// expectOK fails the test if rep is an error.
func expectOK(t *testing.T, what string, rep protocol.ReplyFrame) {
	t.Helper()
	if rep.Error != nil {
		t.Errorf("%s: %v", what, rep.Error)
	}
}

// TestServeMaxConnections: past --max-connections the upgrade answers 503.
func TestServeMaxConnections(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--max-connections=1")
	wstest.Dial(t, r.url()).Connect()
	if _, status, _ := wstest.TryDial(t, r.url(), "127.0.0.1"); status != http.StatusServiceUnavailable {
		t.Fatalf("a second connection got %d, want 503", status)
	}
}

// TestServeConnectRatePerIP: past --connect-rate-per-ip new connections
// from one address answer 429; another address still connects.
func TestServeConnectRatePerIP(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--connect-rate-per-ip=1")
	for _, step := range []struct {
		from string
		want int
	}{
		{"127.0.0.1", http.StatusSwitchingProtocols},
		{"127.0.0.1", http.StatusTooManyRequests}, // the burst (1) is spent
		{"127.0.0.2", http.StatusSwitchingProtocols},
	} {
		if _, status, _ := wstest.TryDial(t, r.url(), step.from); status != step.want {
			t.Errorf("from %s: status %d, want %d", step.from, status, step.want)
		}
	}
}

// TestServeMaxConnectionsPerUser: past --max-connections-per-user, connect
// answers 106 and closes with 3502; another user still connects.
func TestServeMaxConnectionsPerUser(t *testing.T) {
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--max-connections-per-user=1")
	alice := mintWithCLI(t, "--user", "alice")
	wstest.Dial(t, r.url()).Connect(map[string]any{"token": alice})
	second := wstest.Dial(t, r.url())
	expectError(t, "alice's second connect", second.Call(map[string]any{"op": "connect", "token": alice}), protocol.CodeLimitExceeded)
	if code := second.ExpectClose(5 * time.Second); code != protocol.CloseConnectionLimit {
		t.Errorf("close %d, want 3502", code)
	}
	wstest.Dial(t, r.url()).Connect(map[string]any{"token": mintWithCLI(t, "--user", "bob")})
}

// TestServeCommandRate: past --command-rate (bursts of twice the rate),
// commands are answered 110 and the connection stays open.
func TestServeCommandRate(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--command-rate=1")
	c := wstest.Dial(t, r.url())
	c.Connect()
	var ids []uint64
	for range 10 {
		ids = append(ids, c.Command(map[string]any{"op": "publish", "channel": "lobby", "data": 1}))
	}
	limited := 0
	for _, id := range ids {
		rep := c.WaitReply(id)
		switch {
		case rep.Error == nil:
		case rep.Error.Code == protocol.CodeTooManyRequests:
			limited++
		default:
			t.Errorf("publish: %v", rep.Error)
		}
	}
	if limited < 5 {
		t.Errorf("%d of 10 commands at once answered 110, want most past the burst of 2", limited)
	}
	// The connection stays open: the next command is answered.
	if rep := c.Call(map[string]any{"op": "publish", "channel": "lobby", "data": 2}); rep.Error != nil && rep.Error.Code != protocol.CodeTooManyRequests {
		t.Errorf("publish after the refusals: %v", rep.Error)
	}
}

// TestServeMaxChannelsPerConnection: past --max-channels-per-connection,
// subscribe answers 106.
func TestServeMaxChannelsPerConnection(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--max-channels-per-connection=2")
	c := wstest.Dial(t, r.url())
	c.Connect()
	expectOK(t, "subscribe a", c.Call(map[string]any{"op": "subscribe", "channel": "a"}))
	expectOK(t, "subscribe b", c.Call(map[string]any{"op": "subscribe", "channel": "b"}))
	expectError(t, "subscribe c", c.Call(map[string]any{"op": "subscribe", "channel": "c"}), protocol.CodeLimitExceeded)
}

// TestServeMaxChannelLength: a channel name longer than
// --max-channel-length is answered 107.
func TestServeMaxChannelLength(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--max-channel-length=8")
	c := wstest.Dial(t, r.url())
	c.Connect()
	expectOK(t, "8 bytes", c.Call(map[string]any{"op": "subscribe", "channel": "abcdefgh"}))
	expectError(t, "9 bytes", c.Call(map[string]any{"op": "subscribe", "channel": "abcdefghi"}), protocol.CodeBadRequest)
	expectError(t, "publish, 9 bytes", c.Call(map[string]any{"op": "publish", "channel": "abcdefghi", "data": 1}), protocol.CodeBadRequest)
}

// TestServeMaxMessageSize: a message larger than --max-message-size closes
// the connection with 1009.
func TestServeMaxMessageSize(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--max-message-size=1024")
	c := wstest.Dial(t, r.url())
	c.Connect()
	expectOK(t, "a 900-byte message", c.Call(map[string]any{"op": "publish", "channel": "lobby", "data": strings.Repeat("x", 850)}))
	if err := c.SendRaw(`{"id":99,"op":"publish","channel":"lobby","data":"` + strings.Repeat("x", 2000) + `"}`); err != nil {
		t.Fatal(err)
	}
	if code := c.ExpectClose(5 * time.Second); code != 1009 {
		t.Fatalf("close %d, want 1009", code)
	}
}

// TestServeConnectTimeout: a connection that sends no connect within
// --connect-timeout is closed with 3006.
func TestServeConnectTimeout(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--connect-timeout=200ms")
	c := wstest.Dial(t, r.url())
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseConnectTimeout {
		t.Fatalf("close %d, want 3006", code)
	}
}

// TestServePongTimeout: a client that does not answer the pings sent every
// --ping-interval within --pong-timeout is closed with 3001.
func TestServePongTimeout(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--ping-interval=100ms", "--pong-timeout=100ms")
	c := wstest.Dial(t, r.url())
	c.Connect()
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseNoPong {
		t.Fatalf("close %d, want 3001", code)
	}
	if _, err := c.NextPush("ping", 0); err != nil {
		t.Errorf("the client was closed without a ping: %v", err)
	}
}

// TestServeSlowConsumer: a subscriber that stops reading is disconnected
// (3002) once more than --write-queue-size waits for it; the publisher is
// not held back.
func TestServeSlowConsumer(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--write-queue-size=65536", "--command-rate=100000")
	// The slow client's small receive buffer keeps the kernel from
	// absorbing megabytes on its behalf.
	conn, err := net.DialTimeout("tcp", r.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	slow := wstest.NewRaw(t, conn, r.url())
	if err := slow.Connect(); err != nil {
		t.Fatal(err)
	}
	if err := slow.SendText(`{"id":2,"op":"subscribe","channel":"firehose"}`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := slow.ReadFrame(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	// From here on the slow client reads nothing.

	pub := wstest.Dial(t, r.url())
	pub.Connect()
	data := strings.Repeat("x", 20<<10)
	for i := range 1500 { // 30 MB at most
		expectOK(t, "publish", pub.Call(map[string]any{"op": "publish", "channel": "firehose", "data": data}))
		if i%25 == 0 {
			if _, body := get(t, "http://"+r.addr+"/metrics"); strings.Contains(body, "\nherald_slow_consumer_disconnects_total 1\n") {
				return
			}
		}
	}
	t.Fatal("the client that stopped reading was never disconnected as a slow consumer")
}
