package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/client"
)

// Publish raw bytes and tell them from JSON on receipt. The first client
// speaks the binary encoding (the default, which the node accepts), the
// second JSON, in which the bytes travel in base64; both hand over the same
// bytes.
func ExampleClient_PublishBytes() {
	_, url, stop := startNode(herald.Config{})
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	connect := func(enc client.Encoding) (*client.Client, chan client.Publication, error) {
		connected := make(chan client.ConnectedEvent, 1)
		c := client.New(url, client.Options{
			Encoding:    enc,
			OnConnected: func(e client.ConnectedEvent) { connected <- e },
		})
		if err := c.Connect(ctx); err != nil {
			return c, nil, err
		}
		fmt.Println("connected with", (<-connected).Encoding)
		received := make(chan client.Publication, 2)
		_, err := c.Subscribe(ctx, "photos", client.SubscriptionHandlers{
			OnPublication: func(p client.Publication) { received <- p },
		})
		return c, received, err
	}
	binary, fromBinary, err := connect(client.EncodingAuto)
	defer binary.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	text, fromText, err := connect(client.EncodingJSON)
	defer text.Close()
	if err != nil {
		fmt.Println(err)
		return
	}

	thumbnail := []byte{0x89, 'P', 'N', 'G', 0x0d, 0x0a}
	if _, err := binary.PublishBytes(ctx, "photos", thumbnail); err != nil {
		fmt.Println("publish:", err)
		return
	}
	if _, err := text.Publish(ctx, "photos", map[string]string{"caption": "sunset"}); err != nil {
		fmt.Println("publish:", err)
		return
	}
	show := func(who string, p client.Publication) {
		if p.Binary {
			fmt.Printf("%s: %d bytes: % x\n", who, len(p.Data), p.Data)
		} else {
			fmt.Printf("%s: JSON %s\n", who, p.Data)
		}
	}
	for range 2 {
		show("binary client", <-fromBinary)
		show("JSON client", <-fromText)
	}
	// Output:
	// connected with protobuf
	// connected with json
	// binary client: 6 bytes: 89 50 4e 47 0d 0a
	// JSON client: 6 bytes: 89 50 4e 47 0d 0a
	// binary client: JSON {"caption":"sunset"}
	// JSON client: JSON {"caption":"sunset"}
}
