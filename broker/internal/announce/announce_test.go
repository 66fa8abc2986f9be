package announce

import (
	"context"
	"testing"

	"github.com/heraldrt/herald/broker"
)

func TestAnnouncerSendsKindAndInfo(t *testing.T) {
	var sent []string
	a := Announcer{Name: "test", Send: func(_ context.Context, channel string, msg []byte) error {
		sent = append(sent, channel+" "+string(msg))
		return nil
	}}
	info := &broker.ClientInfo{Client: "c1"}
	if err := a.PublishJoin(context.Background(), "room", info); err != nil {
		t.Fatal(err)
	}
	if err := a.PublishLeave(context.Background(), "room", info); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 || sent[0][:6] != "room j" || sent[1][:6] != "room l" {
		t.Fatalf("sent %q", sent)
	}
	got, err := Decode([]byte(sent[0][6:]))
	if err != nil || got.Client != "c1" {
		t.Fatalf("decoded %+v %v", got, err)
	}
}
