package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/client"
	"github.com/heraldrt/herald/protocol"
)

// startNode runs a Herald node in-process, as an application would mount
// it, and returns its WebSocket URL and a function that stops it.
func startNode(cfg herald.Config) (node *herald.Node, url string, stop func()) {
	cfg.ShutdownWindow = 10 * time.Millisecond
	node, err := herald.New(cfg)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	srv := httptest.NewServer(mux)
	return node, "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", func() {
		_ = node.Shutdown(context.Background())
		srv.Close()
	}
}

// Connect, subscribe to a channel, publish to it and receive the publication.
func Example() {
	_, url, stop := startNode(herald.Config{})
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := client.New(url, client.Options{})
	defer c.Close()
	if err := c.Connect(ctx); err != nil {
		fmt.Println("connect:", err)
		return
	}

	received := make(chan client.Publication, 1)
	_, err := c.Subscribe(ctx, "chat:lobby", client.SubscriptionHandlers{
		OnPublication: func(p client.Publication) { received <- p },
	})
	if err != nil {
		fmt.Println("subscribe:", err)
		return
	}
	if _, err := c.Publish(ctx, "chat:lobby", map[string]string{"text": "hello"}); err != nil {
		fmt.Println("publish:", err)
		return
	}
	p := <-received
	fmt.Println(p.Channel, string(p.Data))
	// Output: chat:lobby {"text":"hello"}
}

// Call a server method with a deadline, and tell an unknown method from
// other errors.
func ExampleClient_RPC() {
	node, url, stop := startNode(herald.Config{})
	defer stop()
	node.OnRPC("add", func(_ context.Context, _ *herald.Session, data json.RawMessage) (any, error) {
		var args [2]int
		if err := json.Unmarshal(data, &args); err != nil {
			return nil, herald.ErrBadRequest
		}
		return args[0] + args[1], nil
	})

	c := client.New(url, client.Options{})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		fmt.Println("connect:", err)
		return
	}

	sum, err := c.RPC(ctx, "add", []int{2, 3})
	fmt.Println(string(sum), err)

	_, err = c.RPC(ctx, "subtract", []int{2, 3})
	var herr *client.Error
	if errors.As(err, &herr) {
		fmt.Println(herr.Code, errors.Is(err, client.ErrMethodNotFound))
	}
	// Output:
	// 5 <nil>
	// 104 true
}

// Renewed subscriptions report whether missed publications were recovered;
// when they were not, the application reloads its state.
func ExampleSubscriptionHandlers() {
	node, url, stop := startNode(herald.Config{})
	defer stop()
	node.OnConnect(func(context.Context, *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: "ann"}, nil
	})

	c := client.New(url, client.Options{MinReconnectDelay: 10 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		fmt.Println("connect:", err)
		return
	}

	renewed := make(chan struct{})
	_, err := c.Subscribe(ctx, "orders", client.SubscriptionHandlers{
		OnSubscribed: func(e client.SubscribedEvent) {
			switch {
			case !e.Resubscribed:
				fmt.Println("subscribed")
			case !e.Recovered:
				fmt.Println("resubscribed; publications may be missing: reload")
				close(renewed)
			default:
				fmt.Println("resubscribed; nothing missed")
				close(renewed)
			}
		},
	})
	if err != nil {
		fmt.Println("subscribe:", err)
		return
	}
	// The server asks the user's connections to reconnect.
	_ = node.Disconnect(ctx, "ann", "", protocol.CloseForceReconnect, "")
	<-renewed
	// Output:
	// subscribed
	// resubscribed; publications may be missing: reload
}
