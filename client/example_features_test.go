package client_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/client"
)

// Read the last messages of a room, newest first, as a chat does when
// someone joins.
func ExampleClient_History() {
	_, url, stop := startNode(herald.Config{Channels: herald.ChannelOptions{HistorySize: 100}})
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := client.New(url, client.Options{})
	defer c.Close()
	if err := c.Connect(ctx); err != nil {
		fmt.Println("connect:", err)
		return
	}
	for _, text := range []string{"one", "two", "three"} {
		if _, err := c.Publish(ctx, "chat:lobby", text); err != nil {
			fmt.Println("publish:", err)
			return
		}
	}

	res, err := c.History(ctx, "chat:lobby", client.HistoryOptions{Limit: 2, Reverse: true})
	if err != nil {
		fmt.Println("history:", err)
		return
	}
	for _, p := range res.Publications {
		fmt.Println(p.Offset, string(p.Data))
	}
	fmt.Println("latest offset", res.Offset)
	// Output:
	// 3 "three"
	// 2 "two"
	// latest offset 3
}

// List who is in a room, then follow joins and leaves.
func ExampleClient_Presence() {
	node, url, stop := startNode(herald.Config{
		Channels: herald.ChannelOptions{Presence: true, JoinLeave: true},
	})
	defer stop()
	node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: e.Token}, nil // a demo: the token is the user id
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	ann := client.New(url, client.Options{Token: "ann"})
	defer ann.Close()
	joined := make(chan string, 1)
	left := make(chan string, 1)
	if err := ann.Connect(ctx); err != nil {
		fmt.Println("connect:", err)
		return
	}
	sub, err := ann.Subscribe(ctx, "chat:lobby", client.SubscriptionHandlers{
		OnJoin:  func(e client.PresenceEvent) { joined <- e.Client.User },
		OnLeave: func(e client.PresenceEvent) { left <- e.Client.User },
	})
	if err != nil {
		fmt.Println("subscribe:", err)
		return
	}

	bo := client.New(url, client.Options{Token: "bo"})
	if err := bo.Connect(ctx); err != nil {
		fmt.Println("connect:", err)
		return
	}
	if _, err := bo.Subscribe(ctx, "chat:lobby", client.SubscriptionHandlers{}); err != nil {
		fmt.Println("subscribe:", err)
		return
	}
	fmt.Println("joined:", <-joined)

	who, err := sub.Presence(ctx)
	if err != nil {
		fmt.Println("presence:", err)
		return
	}
	var users []string
	for _, p := range who.Clients {
		users = append(users, p.User)
	}
	sort.Strings(users)
	fmt.Println("here:", users)

	bo.Close()
	fmt.Println("left:", <-left)
	// Output:
	// joined: bo
	// here: [ann bo]
	// left: bo
}

// Subscribe to a channel that needs a channel token, getting tokens from
// the application's backend (here minted in-process) when the subscription
// needs one and again before each expires.
func ExampleWithChannelTokenFunc() {
	secret := []byte("an example secret of at least 32 bytes")
	v, err := auth.NewVerifier(auth.Config{HMACSecret: secret})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, url, stop := startNode(herald.Config{
		ChannelTokenVerifier: v.ChannelTokenVerifier(),
		Namespaces: map[string]herald.ChannelOptions{
			"vip": {HistorySize: 10, Permissions: herald.Permissions{Subscribe: herald.AccessToken}},
		},
	})
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := client.New(url, client.Options{})
	defer c.Close()
	if err := c.Connect(ctx); err != nil {
		fmt.Println("connect:", err)
		return
	}

	// Without a token the server refuses.
	_, err = c.Subscribe(ctx, "vip:lounge", client.SubscriptionHandlers{})
	fmt.Println("without a token:", errors.Is(err, client.ErrPermissionDenied))

	getToken := func(_ context.Context, channel string) (string, error) {
		return auth.Mint(secret, "HS256", auth.Claims{Channel: channel, Expires: time.Now().Add(time.Hour)})
	}
	_, err = c.Subscribe(ctx, "vip:lounge", client.SubscriptionHandlers{}, client.WithChannelTokenFunc(getToken))
	fmt.Println("with a token:", err)
	// Output:
	// without a token: true
	// with a token: <nil>
}
