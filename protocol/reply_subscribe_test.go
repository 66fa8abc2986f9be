package protocol

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

// subscribeResults are subscribe results of every shape: plain, positioned,
// recovered with publications of every field, binary data, nil entries,
// and strings that JSON must escape.
func subscribeResults() []*SubscribeResult {
	info := &ClientInfo{Client: "c1", User: "u<1>", Data: json.RawMessage(`{"n":1}`)}
	pubs := []*Publication{
		{Offset: 7, Data: json.RawMessage(`{"a":1}`), Time: 1700000000000},
		{Offset: 8, Data: json.RawMessage(`"text"`), Info: info, Key: "k\"1"},
		{Offset: 9, Data: []byte{0, 1, 2, 0xff}, Binary: true},
		{Data: nil},
		nil,
	}
	return []*SubscribeResult{
		{},
		{Offset: 3},
		{Epoch: "ep"},
		{Offset: 12, Epoch: "e\u2028p", Recoverable: true},
		{Offset: 12, Epoch: "ep", Recoverable: true, Recovered: true},
		{Offset: 9, Epoch: "ep", Recoverable: true, Recovered: true, Publications: pubs},
		{Recovered: true, Publications: pubs[:1]},
	}
}

// TestSubscribeReplyAsEncodingJSON: the hand-written subscribe reply is
// byte for byte what encoding/json writes for the same Reply.
func TestSubscribeReplyAsEncodingJSON(t *testing.T) {
	for i, res := range subscribeResults() {
		r := &Reply{ID: uint64(i + 1), Result: res}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeReply(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("result %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestSubscribeReplyRoundTrip: a recovery's reply decodes to the
// publications that went in, in order.
func TestSubscribeReplyRoundTrip(t *testing.T) {
	res := subscribeResults()[5]
	b, err := EncodeReply(&Reply{ID: 2, Result: res})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID     uint64          `json:"id"`
		Result SubscribeResult `json:"result"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if got.ID != 2 || got.Result.Offset != res.Offset || got.Result.Epoch != res.Epoch || !got.Result.Recovered {
		t.Fatalf("decoded %+v", got)
	}
	for i, p := range res.Publications {
		q := got.Result.Publications[i]
		if p == nil || p.Data == nil {
			continue
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("publication %d: got %+v, want %+v", i, q, p)
		}
	}
}

// BenchmarkEncodeSubscribeReply encodes the reply of a recovery of ten
// 128-byte publications, with the hand-written encoder (EncodeReply) and
// with encoding/json, which validates and compacts each publication again.
func BenchmarkEncodeSubscribeReply(b *testing.B) {
	res := &SubscribeResult{Offset: 20, Epoch: "abcdefgh", Recoverable: true, Recovered: true}
	for i := range 10 {
		data := []byte(`{"s":` + strconv.Itoa(i) + `,"t":1700000000000000000,"p":"`)
		data = append(data, bytes.Repeat([]byte("x"), 128-len(data)-2)...)
		data = append(data, '"', '}')
		res.Publications = append(res.Publications, &Publication{Offset: uint64(11 + i), Data: data, Time: 1700000000000})
	}
	r := &Reply{ID: 2, Result: res}
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeReply(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
