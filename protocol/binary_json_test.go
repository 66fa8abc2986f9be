package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// plainPublication is Publication without its JSON methods: what
// encoding/json wrote before binary data, which stored publications
// (Redis, NATS) and every JSON client still read.
type plainPublication struct {
	Offset uint64          `json:"offset,omitempty"`
	Data   json.RawMessage `json:"data"`
	Info   *ClientInfo     `json:"info,omitempty"`
	Key    string          `json:"key,omitempty"`
	Time   int64           `json:"time,omitempty"`
}

func TestPublicationJSONUnchangedForJSONData(t *testing.T) {
	for _, p := range []Publication{
		{},
		{Offset: 7, Data: json.RawMessage(`{"a":"<b>"}`), Info: &ClientInfo{Client: "c", User: "u\u2028", Data: json.RawMessage(`[1]`)}, Key: "k&", Time: 5},
		{Data: json.RawMessage(`null`), Info: &ClientInfo{}},
	} {
		got, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(plainPublication{p.Offset, p.Data, p.Info, p.Key, p.Time})
		if string(got) != string(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestPublicationJSONBinaryRoundTrip(t *testing.T) {
	p := &Publication{Offset: 3, Data: []byte{0, '\n', 0xff}, Binary: true, Key: "k", Time: 9}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"offset":3,"data":"AAr/","binary":true,"key":"k","time":9}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var back Publication
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, p) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"data":{"x":1},"binary":true}`), &back); err == nil {
		t.Fatal("accepted binary data that is not a base64 string")
	}
}

func TestAppendPubBinaryJSON(t *testing.T) {
	got := AppendPub(nil, "c", &Publication{Offset: 1, Data: []byte("hi"), Binary: true}, "e")
	if want := `{"op":"pub","channel":"c","offset":1,"epoch":"e","data":"aGk=","binary":true}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var f ReplyFrame
	if err := DecodeReplyFrame(got, &f); err != nil || string(f.Data) != "hi" || !f.Binary {
		t.Fatalf("decoded %+v, %v", f, err)
	}
}

func TestDecodeCommandBinaryJSON(t *testing.T) {
	var cmd Command
	if err := DecodeCommand([]byte(`{"id":1,"op":"publish","channel":"c","data":"aGk=","binary":true}`), &cmd); err != nil {
		t.Fatal(err)
	}
	if string(cmd.Data) != "hi" || !cmd.Binary {
		t.Fatalf("decoded %+v", cmd)
	}
	for _, in := range []string{
		`{"id":1,"op":"publish","channel":"c","data":{"a":1},"binary":true}`,
		`{"id":1,"op":"publish","channel":"c","data":"not base64!","binary":true}`,
	} {
		if err := DecodeCommand([]byte(in), &cmd); !errors.Is(err, ErrInvalidField) {
			t.Errorf("%s: error %v, want ErrInvalidField", in, err)
		}
	}
}
