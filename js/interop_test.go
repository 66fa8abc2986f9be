package js_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldrt/herald/protocol"
)

// TestEncodingsAgreeWithGo checks the SDK's JSON and Protobuf encodings
// (src/encoding-json.js, src/encoding-protobuf.js) against the server's,
// package protocol, under Node.js (test/interop.mjs): every kind of server
// message, encoded by Go in both encodings, decodes alike in the SDK, and
// every kind of command the SDK sends, encoded in both, decodes in Go to
// the same Command, binary publications included.
func TestEncodingsAgreeWithGo(t *testing.T) {
	requireNode(t)
	info := &protocol.ClientInfo{Client: "c1", User: "alice", Data: json.RawMessage(`{"name":"Alice"}`)}
	png := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0xff}
	binPub := &protocol.Publication{Offset: 1, Data: png, Binary: true, Info: info, Key: "k", Time: 1764127800123}
	jsonPub := &protocol.Publication{Offset: 2, Data: json.RawMessage(`{"text":"hi"}`), Time: 1764127800124}
	emptyBin := &protocol.Publication{Offset: 3, Data: []byte{}, Binary: true}
	sub := &protocol.SubscribeResult{Offset: 3, Epoch: "e", Recoverable: true, Recovered: true, Publications: []*protocol.Publication{binPub, jsonPub, emptyBin}}
	type pair struct {
		Name     string `json:"name"`
		JSON     string `json:"json"`
		Protobuf string `json:"protobuf"`
	}
	var msgs []pair
	add := func(name string, js, pb []byte) {
		msgs = append(msgs, pair{name, string(js), base64.StdEncoding.EncodeToString(pb)})
	}
	for _, r := range []*protocol.Reply{
		{ID: 1, Result: &protocol.ConnectResult{Client: "c1", Node: "n", User: "alice", Ping: 25, Expires: 1764131400, Data: json.RawMessage(`[1]`),
			Subs: map[string]*protocol.SubscribeResult{"news": sub, "plain": {}}}},
		{ID: 2, Result: sub},
		{ID: 3, Result: &protocol.PublishResult{Offset: 9, Epoch: "e"}},
		{ID: 4, Result: &protocol.RPCResult{Data: json.RawMessage(`{"t":"now"}`)}},
		{ID: 5, Result: &protocol.PresenceResult{Clients: map[string]*protocol.PresenceInfo{"c1": {User: "alice", Info: json.RawMessage(`{"a":1}`)}, "c2": {}}}},
		{ID: 6, Result: &protocol.HistoryResult{Offset: 3, Epoch: "e", Publications: []*protocol.Publication{binPub, jsonPub}}},
		{ID: 7, Result: &protocol.RefreshResult{Expires: 1764131400}},
		{ID: 8, Result: protocol.Empty{}},
		{ID: 9, Error: protocol.NewError(protocol.CodePermissionDenied)},
	} {
		js, err := protocol.EncodeReply(r)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := protocol.EncodeReplyProtobuf(r)
		if err != nil {
			t.Fatal(err)
		}
		add("reply "+string(rune('0'+r.ID)), js, pb)
	}
	pushes := []struct {
		name string
		p    *protocol.Push
	}{
		{"join", &protocol.Push{Op: protocol.OpJoin, Channel: "ch", Info: info}},
		{"sub", &protocol.Push{Op: protocol.OpSub, Channel: "ch", SubscribeResult: sub}},
		{"unsub", &protocol.Push{Op: protocol.OpUnsub, Channel: "ch", Code: 120, Reason: "r"}},
		{"message", &protocol.Push{Op: protocol.OpMessage, Data: json.RawMessage(`"m"`)}},
		{"refresh", &protocol.Push{Op: protocol.OpRefreshPush}},
	}
	for _, p := range pushes {
		add(p.name, protocol.EncodePush(p.p), protocol.EncodePushProtobuf(p.p))
	}
	add("pub binary", protocol.AppendPub(nil, "ch", binPub, "e"), protocol.AppendPubProtobuf(nil, "ch", binPub, "e"))
	add("pub json", protocol.AppendPub(nil, "ch", jsonPub, "e"), protocol.AppendPubProtobuf(nil, "ch", jsonPub, "e"))
	add("pub empty bytes", protocol.AppendPub(nil, "ch", emptyBin, ""), protocol.AppendPubProtobuf(nil, "ch", emptyBin, ""))
	add("pub no data", protocol.AppendPub(nil, "ch", &protocol.Publication{}, ""), protocol.AppendPubProtobuf(nil, "ch", &protocol.Publication{}, ""))
	add("ping", protocol.JSON.PingPush(), protocol.Protobuf.PingPush())
	add("disconnect, reconnect", protocol.DisconnectPush(protocol.CloseSlowConsumer, "slow"), protocol.DisconnectPushProtobuf(protocol.CloseSlowConsumer, "slow"))
	add("disconnect, stop", protocol.DisconnectPush(protocol.CloseBadRequest, "bad"), protocol.DisconnectPushProtobuf(protocol.CloseBadRequest, "bad"))

	raw, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "messages.json")
	write(t, in, string(raw))
	out := run(t, ".", "node", "test/interop.mjs", in)

	n := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c pair
		if !strings.HasPrefix(sc.Text(), "{") || json.Unmarshal(sc.Bytes(), &c) != nil || c.Name == "" {
			continue // run's log lines
		}
		n++
		var fromJSON, fromPB protocol.Command
		if err := protocol.DecodeCommand([]byte(c.JSON), &fromJSON); err != nil {
			t.Errorf("%s: Go refuses the SDK's JSON %s: %v", c.Name, c.JSON, err)
			continue
		}
		frame, err := base64.StdEncoding.DecodeString(c.Protobuf)
		if err != nil {
			t.Fatal(err)
		}
		count := 0
		err = protocol.SplitProtobuf(frame, func(msg []byte) error {
			count++
			return protocol.DecodeCommandProtobuf(msg, &fromPB)
		})
		if err != nil || count != 1 {
			t.Errorf("%s: Go decodes the SDK's Protobuf frame %x into %d messages: %v", c.Name, frame, count, err)
			continue
		}
		if !reflect.DeepEqual(fromJSON, fromPB) {
			t.Errorf("%s: the SDK's JSON decodes to\n%+v\nits Protobuf to\n%+v", c.Name, fromJSON, fromPB)
		}
		if c.Name == "publish bytes" && (!fromPB.Binary || string(fromPB.Data) != string(png)) {
			t.Errorf("publish bytes: Go reads binary=%v data %x, want the PNG's bytes", fromPB.Binary, fromPB.Data)
		}
	}
	if n != 14 {
		t.Errorf("the script printed %d commands, want 14:\n%s", n, out)
	}
}
