// Command baseline is the least a WebSocket server can do for herald
// bench: it upgrades, answers the connect-and-subscribe frame with two
// fixed replies in one write, and answers the close handshake; no
// protocol, no state. Run against it, `herald bench churn` measures what
// this machine (the kernel's TCP handshakes, nbio, and the load generator
// itself) allows before any server logic, which is the ceiling a real
// server is judged against in docs/benchmarks.md.
//
//	go run ./internal/bench/baseline --addr 127.0.0.1:18190 --mode std
//	herald bench churn --url ws://127.0.0.1:18190/ws --clients 100 --duration 10s --server-pid $PID
//
// --mode std accepts with net/http and hands each upgraded connection to
// nbio's poller, as Herald does; --mode nb lets nbio's own HTTP engine
// accept and parse the handshake as well.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// replies answers herald bench's connect (id 1) and subscribe (id 2).
var replies = []byte(`{"id":1,"result":{"client":"baseline","version":"baseline"}}` + "\n" + `{"id":2,"result":{}}`)

func main() {
	addr := flag.String("addr", "127.0.0.1:18190", "listen address")
	mode := flag.String("mode", "std", "std (net/http accepts) or nb (nbio accepts)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *mode, *addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends; ready, when given, receives the address.
func run(ctx context.Context, mode, addr string, ready func(net.Addr)) error {
	logging.SetLevel(logging.LevelNone)
	mux := http.NewServeMux()
	conf := nbhttp.Config{Name: "baseline", NPoller: runtime.GOMAXPROCS(0), ReleaseWebsocketPayload: true}
	var ln net.Listener
	switch mode {
	case "std":
		var err error
		// Without TCP keep-alive, as herald's own listener.
		lc := net.ListenConfig{KeepAlive: -1}
		if ln, err = lc.Listen(ctx, "tcp", addr); err != nil {
			return err
		}
	case "nb":
		conf.Network, conf.Addrs, conf.Handler = "tcp", []string{addr}, mux
	default:
		return errors.New(`--mode is "std" or "nb"`)
	}
	engine := nbhttp.NewEngine(conf)
	if err := engine.Start(); err != nil {
		return err
	}
	started := time.Now()
	defer func() {
		// nbio v1.6.8 loses a Stop that comes before its pollers ran
		// (see transport/websocket's pollerStartGrace).
		time.Sleep(100*time.Millisecond - time.Since(started))
		engine.Stop()
	}()
	u := websocket.NewUpgrader()
	u.Engine = engine
	u.KeepaliveTime = 0
	u.BlockingModTrasferConnToPoller = true
	u.CheckOrigin = func(*http.Request) bool { return true }
	u.OnMessage(func(c *websocket.Conn, _ websocket.MessageType, _ []byte) {
		_ = c.WriteMessage(websocket.TextMessage, replies)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		_, _ = u.Upgrade(w, r, nil)
	})
	if ln != nil {
		hs := &http.Server{Handler: mux}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		if ready != nil {
			ready(ln.Addr())
		}
	} else if ready != nil {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			return err
		}
		ready(a)
	}
	<-ctx.Done()
	return nil
}
