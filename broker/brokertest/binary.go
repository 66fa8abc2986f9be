package brokertest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/heraldrt/herald/broker"
)

// testBinary checks that a broker carries and stores a publication's
// Binary flag and its bytes exactly (every byte value, a newline and a
// space included: a broker that stores publications as text must not
// touch them), next to JSON publications on the same channel, in live
// delivery and in history; and that a binary publication of zero bytes
// stays binary.
func testBinary(t *testing.T, b broker.Broker, h *Recorder) {
	ch := channel(t)
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 256)
	for i := range raw {
		raw[i] = byte(i)
	}
	info := &broker.ClientInfo{Client: "c1", User: "u1", Data: json.RawMessage(`{"n":1}`)}
	sent := []*broker.Publication{
		{Data: raw, Binary: true, Info: info, Key: "bin-1", Time: 1764127800123},
		{Data: data(2)},
		{Data: []byte{}, Binary: true},
		{Data: []byte(" \n"), Binary: true},
	}
	for i, p := range sent {
		if res := mustPublish(t, b, ch, p, withHistory); res.Offset != uint64(i+1) {
			t.Fatalf("publication %d got offset %d", i+1, res.Offset)
		}
	}
	check := func(where string, got []*broker.Publication) {
		t.Helper()
		if len(got) != len(sent) {
			t.Fatalf("%s: %d publications, want %d", where, len(got), len(sent))
		}
		for i, p := range got {
			w := sent[i]
			if p.Binary != w.Binary || !bytes.Equal(p.Data, w.Data) || p.Key != w.Key || p.Time != w.Time || p.Offset != uint64(i+1) {
				t.Fatalf("%s: publication %d came back as %+v, want %+v", where, i+1, p, w)
			}
			if w.Binary && p.Data == nil {
				t.Fatalf("%s: publication %d lost its (empty) binary data", where, i+1)
			}
			if (p.Info == nil) != (w.Info == nil) || p.Info != nil && (p.Info.Client != w.Info.Client || string(p.Info.Data) != string(w.Info.Data)) {
				t.Fatalf("%s: publication %d info %+v, want %+v", where, i+1, p.Info, w.Info)
			}
		}
	}
	h.Wait(t, wait, "the publications", func(r *Recorder) bool { return len(r.pubs[ch]) == len(sent) })
	check("delivered", h.Pubs(ch))
	res, err := b.History(context.Background(), ch, broker.HistoryOptions{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	check("history", res.Publications)
}
