package herald_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// nextPub returns the next `pub` push of c, failing the test after a
// generous wait.
func nextPub(t *testing.T, c *wstest.Client) protocol.ReplyFrame {
	t.Helper()
	m, err := c.NextPush("pub", 5*time.Second)
	if err != nil {
		t.Fatalf("%s client: waiting for a pub: %v", c.Encoding(), err)
	}
	return m
}

// jsonSees checks what the JSON client got for a publication: its JSON
// as it was, or for binary data the base64 of the bytes with
// "binary":true (docs/protocol.md, section 2.7).
func jsonSees(t *testing.T, m protocol.ReplyFrame, data []byte, binary bool) {
	t.Helper()
	if binary {
		var b64 string
		if err := json.Unmarshal(m.Data, &b64); err != nil || !m.Binary || b64 != base64.StdEncoding.EncodeToString(data) {
			t.Fatalf("JSON client got data %s binary %v, want the base64 of % x with binary", m.Data, m.Binary, data)
		}
		return
	}
	if m.Binary || string(m.Data) != string(data) {
		t.Fatalf("JSON client got data %s binary %v, want %s", m.Data, m.Binary, data)
	}
}

// binarySees checks what the binary client got: the bytes with binary
// set, or a JSON publication's JSON text without it.
func binarySees(t *testing.T, m protocol.ReplyFrame, data []byte, binary bool) {
	t.Helper()
	if m.Binary != binary || string(m.Data) != string(data) {
		t.Fatalf("binary client got data %q binary %v, want %q binary %v", m.Data, m.Binary, data, binary)
	}
}

// TestJSONAndBinaryClientsShareAChannel has a JSON client and a binary
// client publish JSON and bytes on one channel, with the server publishing
// too, and checks that each sees every publication as the spec says, live,
// in history and in recovery; and that presence, RPC, send, the message
// push and join pushes work in both encodings.
func TestJSONAndBinaryClientsShareAChannel(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10, Presence: true, JoinLeave: true}})
	ts.node.OnRPC("echo", func(_ context.Context, s *herald.Session, data json.RawMessage) (any, error) {
		return json.RawMessage(`{"enc":"` + s.Encoding().String() + `","got":` + string(data) + `}`), nil
	})
	ts.node.OnMessage(func(_ context.Context, s *herald.Session, data json.RawMessage) {
		mu.Lock()
		sent = append(sent, s.Encoding().String()+":"+string(data))
		mu.Unlock()
		_ = s.Send(json.RawMessage(`{"ack":true}`))
	})

	jc := wstest.DialEncoding(t, ts.url, protocol.JSON)
	bc := wstest.DialEncoding(t, ts.url, protocol.Protobuf)
	for _, c := range []*wstest.Client{jc, bc} {
		c.Connect()
		if r := c.Call(map[string]any{"op": "subscribe", "channel": "mix", "presence": true}); r.Error != nil {
			t.Fatal(r.Error)
		}
	}

	bytes1 := []byte{0, 1, '\n', 0xfe, 0xff}
	steps := []struct {
		name   string
		pub    func()
		data   []byte
		binary bool
	}{
		{"JSON from the JSON client", func() {
			jc.Call(map[string]any{"op": "publish", "channel": "mix", "data": json.RawMessage(`{"from":"json"}`)})
		}, []byte(`{"from":"json"}`), false},
		{"bytes from the JSON client", func() {
			jc.Call(map[string]any{"op": "publish", "channel": "mix", "data": base64.StdEncoding.EncodeToString(bytes1), "binary": true})
		}, bytes1, true},
		{"bytes from the binary client", func() {
			bc.Call(map[string]any{"op": "publish", "channel": "mix", "data": base64.StdEncoding.EncodeToString([]byte{9, 8, 7}), "binary": true})
		}, []byte{9, 8, 7}, true},
		{"JSON from the binary client", func() {
			bc.Call(map[string]any{"op": "publish", "channel": "mix", "data": json.RawMessage(`[1,"two"]`)})
		}, []byte(`[1,"two"]`), false},
		{"zero bytes from the server", func() {
			if _, err := ts.node.PublishBinary(context.Background(), "mix", []byte{}); err != nil {
				t.Fatal(err)
			}
		}, []byte{}, true},
	}
	for i, st := range steps {
		st.pub()
		mj, mb := nextPub(t, jc), nextPub(t, bc)
		if mj.Offset != uint64(i+1) || mb.Offset != uint64(i+1) {
			t.Fatalf("%s: offsets %d and %d, want %d", st.name, mj.Offset, mb.Offset, i+1)
		}
		jsonSees(t, mj, st.data, st.binary)
		binarySees(t, mb, st.data, st.binary)
	}

	// History and recovery give both clients the same publications.
	var hist [2]protocol.HistoryResult
	for i, c := range []*wstest.Client{jc, bc} {
		r := c.Call(map[string]any{"op": "history", "channel": "mix"})
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		if err := json.Unmarshal(r.Result, &hist[i]); err != nil {
			t.Fatal(err)
		}
	}
	if len(hist[0].Publications) != len(steps) || !reflect.DeepEqual(hist[0], hist[1]) {
		t.Fatalf("history differs between encodings:\nJSON   %+v\nbinary %+v", hist[0], hist[1])
	}
	for i, p := range hist[1].Publications {
		if p.Binary != steps[i].binary || string(p.Data) != string(steps[i].data) {
			t.Fatalf("history item %d: %q binary %v, want %q binary %v", i, p.Data, p.Binary, steps[i].data, steps[i].binary)
		}
	}
	rc := wstest.DialEncoding(t, ts.url, protocol.Protobuf)
	rc.Connect()
	res := subscribe(t, rc, map[string]any{"channel": "mix", "recover": true, "offset": 1, "epoch": hist[1].Epoch})
	if !res.Recovered || len(res.Publications) != len(steps)-1 || !reflect.DeepEqual(res.Publications, hist[1].Publications[1:]) {
		t.Fatalf("recovery in the binary encoding: %+v", res.SubscribeResult)
	}
	// rc joined: both subscribers that asked for presence hear it.
	for _, c := range []*wstest.Client{jc, bc} {
		if m, err := c.NextPush("join", 5*time.Second); err != nil || m.Info == nil || m.Channel != "mix" {
			t.Fatalf("%s client: join %+v %v", c.Encoding(), m, err)
		}
	}

	// Presence, RPC, send and the message push.
	var pres [2]protocol.PresenceResult
	for i, c := range []*wstest.Client{jc, bc} {
		r := c.Call(map[string]any{"op": "presence", "channel": "mix"})
		if r.Error != nil || json.Unmarshal(r.Result, &pres[i]) != nil || len(pres[i].Clients) != 3 {
			t.Fatalf("%s client: presence %s %v", c.Encoding(), r.Result, r.Error)
		}
		r = c.Call(map[string]any{"op": "rpc", "method": "echo", "data": json.RawMessage(`{"x":1}`)})
		var rpc protocol.RPCResult
		if r.Error != nil || json.Unmarshal(r.Result, &rpc) != nil || string(rpc.Data) != `{"enc":"`+c.Encoding().String()+`","got":{"x":1}}` {
			t.Fatalf("%s client: rpc %s %v", c.Encoding(), r.Result, r.Error)
		}
		c.Command(map[string]any{"op": "send", "data": json.RawMessage(`"hello"`)})
		if m, err := c.NextPush("message", 5*time.Second); err != nil || string(m.Data) != `{"ack":true}` {
			t.Fatalf("%s client: message push %+v %v", c.Encoding(), m, err)
		}
	}
	if !reflect.DeepEqual(pres[0], pres[1]) {
		t.Fatalf("presence differs: %+v and %+v", pres[0], pres[1])
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(sent, []string{`json:"hello"`, `protobuf:"hello"`}) {
		t.Fatalf("OnMessage got %q", sent)
	}
}

// TestSubprotocolNegotiation: herald.protobuf selects the binary encoding
// (preferred when both are offered), herald.json JSON, and an unknown or
// absent subprotocol JSON without selecting one.
func TestSubprotocolNegotiation(t *testing.T) {
	ts := startServer(t, herald.Config{})
	for _, tc := range []struct {
		offer    []string
		selected string
	}{
		{[]string{"herald.protobuf"}, "herald.protobuf"},
		{[]string{"herald.json", "herald.protobuf"}, "herald.protobuf"},
		{[]string{"herald.json"}, "herald.json"},
		{[]string{"mqtt"}, ""},
		{nil, ""},
	} {
		got := wstest.DialSubprotocols(t, ts.url, tc.offer...)
		if got != tc.selected {
			t.Errorf("offering %q: selected %q, want %q", tc.offer, got, tc.selected)
		}
	}
}
