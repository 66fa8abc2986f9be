package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeCommand(t *testing.T) {
	cases := []struct {
		in   string
		want error
		op   string
	}{
		{`{"id":1,"op":"connect","token":"t"}`, nil, OpConnect},
		{`  {"id":2,"op":"subscribe","channel":"a","recover":true,"offset":5,"epoch":"e"}  `, nil, OpSubscribe},
		{`{"op":"pong"}`, nil, OpPong},
		{`{"op":"send","data":[1]}`, nil, OpSend},
		{`{"id":3,"op":"future-op"}`, nil, "future-op"},
		{``, ErrEmptyMessage, ""},
		{`[]`, ErrNotAnObject, ""},
		{`{"id":1}`, ErrMissingOp, ""},
		{`{"op":"publish","channel":"x"}`, ErrMissingID, ""},
		{`{"id":1,"op":"publish"`, ErrInvalidJSON, ""},
		{`{"id":-1,"op":"publish"}`, ErrInvalidJSON, ""},
		{`{"id":1,"op":"publish","data":` + strings.Repeat("[", MaxNestingDepth+1) + strings.Repeat("]", MaxNestingDepth+1) + `}`, ErrTooDeep, ""},
		{`{"id":1,"op":"publish","data":"` + strings.Repeat("[", 500) + `"}`, nil, OpPublish},
		{`{"id":1,"op":"publish","data":"\"[[["}`, nil, OpPublish},
	}
	for _, tc := range cases {
		var cmd Command
		err := DecodeCommand([]byte(tc.in), &cmd)
		if !errors.Is(err, tc.want) {
			t.Errorf("%.60s: error %v, want %v", tc.in, err, tc.want)
			continue
		}
		if err == nil && cmd.Op != tc.op {
			t.Errorf("%.60s: op %q, want %q", tc.in, cmd.Op, tc.op)
		}
	}
}

func TestDecodeCommandResetsFields(t *testing.T) {
	var cmd Command
	_ = DecodeCommand([]byte(`{"id":1,"op":"publish","channel":"a","key":"k"}`), &cmd)
	_ = DecodeCommand([]byte(`{"id":2,"op":"publish","channel":"b"}`), &cmd)
	if cmd.Key != "" {
		t.Fatalf("key leaked from the previous command: %q", cmd.Key)
	}
}

func TestSplitMessages(t *testing.T) {
	var got []string
	_ = SplitMessages([]byte("a\n\nb\r\n  \nc"), func(m []byte) error { got = append(got, strings.TrimSpace(string(m))); return nil })
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("got %q", got)
	}
}

func TestAppendJoined(t *testing.T) {
	msgs := [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`), []byte(`{"c":3}`)}
	for _, tc := range []struct {
		dst   string
		limit int
		want  string
		n     int
	}{
		{"", 0, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}", 3},
		{"", 23, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}", 3}, // exactly the limit
		{"", 22, "{\"a\":1}\n{\"b\":2}", 2},
		{"", 3, `{"a":1}`, 1},                                   // the first message goes whatever its size
		{"prefix:", 15, `prefix:{"a":1}` + "\n" + `{"b":2}`, 2}, // the limit counts appended bytes only
	} {
		got, n := AppendJoined([]byte(tc.dst), msgs, tc.limit)
		if string(got) != tc.want || n != tc.n {
			t.Errorf("AppendJoined(%q, limit %d) = %q, %d; want %q, %d", tc.dst, tc.limit, got, n, tc.want, tc.n)
		}
	}
	if got, n := AppendJoined(nil, nil, 10); len(got) != 0 || n != 0 {
		t.Errorf("AppendJoined of no messages = %q, %d", got, n)
	}
}

// The server's writer joins into a pooled buffer: once it has grown,
// joining allocates nothing.
func TestAppendJoinedReusesBuffer(t *testing.T) {
	msgs := [][]byte{[]byte(`{"op":"pub"}`), []byte(`{"op":"pub"}`)}
	buf := make([]byte, 0, 64)
	if allocs := testing.AllocsPerRun(100, func() { buf, _ = AppendJoined(buf[:0], msgs, 0) }); allocs != 0 {
		t.Fatalf("%v allocations per join into a large enough buffer", allocs)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "ctl\x00\x01\x1f", "nl\n\r\t", "<html>&", "é✓😀", "bad\xffutf8", "sep\u2028\u2029"} {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendPubIsValidJSON(t *testing.T) {
	pub := &Publication{Offset: 7, Data: json.RawMessage(`{"text":"hi"}`), Info: &ClientInfo{Client: "c1", User: "u\"1", Data: json.RawMessage(`{"n":1}`)}, Key: "k", Time: 1700000000000}
	b := AppendPub(nil, "chat:lobby", pub, "ep")
	var f ReplyFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if f.Op != OpPub || f.Channel != "chat:lobby" || f.Offset != 7 || string(f.Data) != `{"text":"hi"}` ||
		f.Info.User != `u"1` || f.Key != "k" || f.Time != 1700000000000 || f.Epoch != "" {
		t.Fatalf("decoded %+v from %s", f, b)
	}
	first := AppendPub(nil, "c", &Publication{Offset: 1, Data: json.RawMessage(`1`)}, "ep")
	if err := json.Unmarshal(first, &f); err != nil || f.Epoch != "ep" {
		t.Fatalf("offset 1 must carry the epoch: %s", first)
	}
}

func TestCompact(t *testing.T) {
	if _, ok := Compact([]byte(`{"a":`)); ok {
		t.Fatal("invalid JSON accepted")
	}
	in := []byte(`{"a": 1}`)
	if out, ok := Compact(in); !ok || &out[0] != &in[0] {
		t.Fatal("single-line JSON should be returned as is")
	}
	if out, ok := Compact([]byte("{\n \"a\": \"x\\ny\"\n}")); !ok || string(out) != `{"a":"x\ny"}` {
		t.Fatalf("got %s", out)
	}
}

func TestShouldReconnect(t *testing.T) {
	for code, want := range map[int]bool{
		CloseShutdown: true, CloseSlowConsumer: true, CloseTokenExpired: true,
		CloseInvalidToken: false, CloseBadRequest: false, 4000: false,
		1000: false, 1001: true, 1006: true, 1009: false, 1011: true,
	} {
		if got := ShouldReconnect(code); got != want {
			t.Errorf("ShouldReconnect(%d) = %v", code, got)
		}
	}
}

func TestDisconnectPushAlwaysSaysReconnect(t *testing.T) {
	for code, want := range map[int]string{CloseShutdown: `"reconnect":true`, CloseBadRequest: `"reconnect":false`} {
		b := DisconnectPush(code, "why \"not\"")
		var f ReplyFrame
		if err := json.Unmarshal(b, &f); err != nil || f.Code != code || f.Reason != `why "not"` {
			t.Fatalf("%s: %+v %v", b, f, err)
		}
		if !strings.Contains(string(b), want) {
			t.Fatalf("%s lacks %s", b, want)
		}
	}
}

func TestDecodeCommandWrongFieldType(t *testing.T) {
	var cmd Command
	err := DecodeCommand([]byte(`{"id":5,"op":"history","channel":"c","limit":"10"}`), &cmd)
	if !errors.Is(err, ErrInvalidField) || cmd.ID != 5 {
		t.Fatalf("err %v, id %d", err, cmd.ID)
	}
}
