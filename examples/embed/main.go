// Command embed mounts Herald in an ordinary net/http server: the WebSocket
// endpoint at /ws, an RPC method, a publish from the backend every second,
// and the browser SDK at /herald.js.
//
//	go run ./examples/embed
//	# then, in a browser console on http://127.0.0.1:8090/ :
//	# const {Herald} = await import('/herald.js')
//	# const h = new Herald('ws://127.0.0.1:8090/ws'); h.connect()
//	# h.subscribe('ticks', {onPublication: p => console.log(p.data)})
package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/js"
)

func main() {
	node, err := herald.New(herald.Config{Channels: herald.ChannelOptions{HistorySize: 100}})
	if err != nil {
		log.Fatal(err)
	}
	node.OnRPC("time", func(context.Context, *herald.Session, json.RawMessage) (any, error) {
		return map[string]string{"now": time.Now().UTC().Format(time.RFC3339)}, nil
	})

	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	mux.Handle("/herald.js", js.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Herald embedded. Open the console and import /herald.js.\n"))
	})
	srv := &http.Server{Addr: "127.0.0.1:8090", Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		for i := 1; ctx.Err() == nil; i++ {
			_, _ = node.Publish(ctx, "ticks", json.RawMessage(`{"tick":`+strconv.Itoa(i)+`}`))
			time.Sleep(time.Second)
		}
	}()
	go func() {
		log.Printf("listening on http://%s/", srv.Addr)
		if err := srv.ListenAndServe(); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	_ = node.Shutdown(shutdownCtx)
}
