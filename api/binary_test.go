package api_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// TestBinaryPublish publishes bytes through the API both ways (the body as
// application/octet-stream with the channel in the query, and base64 in
// JSON with "binary":true, on publish and broadcast): a binary client gets
// the bytes, a JSON client their base64 with "binary":true, and history
// answers them in base64 too.
func TestBinaryPublish(t *testing.T) {
	s := startKeyed(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	bc := wstest.DialEncoding(t, wstest.WSURL(s.http.URL, "/ws"), protocol.Protobuf)
	bc.Connect()
	jc := s.dial(t)
	for _, c := range []*wstest.Client{bc, jc} {
		s.subscribe(t, c, "files")
		s.subscribe(t, c, "other")
	}
	raw := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0}
	octet := func(query string, body []byte) answer {
		return s.do(t, http.MethodPost, "/api/publish"+query, bytes.NewReader(body),
			map[string]string{"X-API-Key": testKey, "Content-Type": "application/octet-stream"})
	}
	var res struct {
		Offset uint64
		Epoch  string
	}
	octet("?channel=files&key=k1", raw).decode(t, &res)
	if res.Offset != 1 || res.Epoch == "" {
		t.Fatalf("octet-stream publish answered %+v", res)
	}
	octet("?channel=files&key=k1", raw).decode(t, &res) // the key makes it idempotent
	s.call(t, "publish", `{"channel":"files","data":"`+base64.StdEncoding.EncodeToString(raw[:4])+`","binary":true}`).decode(t, &res)
	if res.Offset != 2 {
		t.Fatalf("base64 publish answered %+v, want offset 2", res)
	}
	var bres struct{ Results []struct{ Offset uint64 } }
	s.call(t, "broadcast", `{"channels":["files","other"],"data":"AAE=","binary":true}`).decode(t, &bres)
	if len(bres.Results) != 2 || bres.Results[0].Offset != 3 {
		t.Fatalf("binary broadcast answered %+v", bres)
	}

	want := [][]byte{raw, raw[:4], {0, 1}}
	for i, w := range want {
		m, err := bc.NextPush("pub", 5*time.Second)
		if err != nil || !m.Binary || !bytes.Equal(m.Data, w) || m.Offset != uint64(i+1) {
			t.Fatalf("binary client, publication %d: %+v %v", i+1, m, err)
		}
		m, err = jc.NextPush("pub", 5*time.Second)
		if err != nil || !m.Binary || string(m.Data) != `"`+base64.StdEncoding.EncodeToString(w)+`"` {
			t.Fatalf("JSON client, publication %d: %+v %v", i+1, m, err)
		}
	}
	if m, err := bc.NextPush("pub", 5*time.Second); err != nil || m.Channel != "other" || !bytes.Equal(m.Data, []byte{0, 1}) {
		t.Fatalf("broadcast to other: %+v %v", m, err)
	}

	a := s.call(t, "history", `{"channel":"files","limit":1}`)
	if !strings.Contains(string(a.body), `"data":"iVBORw0KGgoA","binary":true`) {
		t.Fatalf("history answers %s, want the first publication's base64 with \"binary\":true", a.body)
	}
	var hist struct{ Publications []*protocol.Publication }
	a.decode(t, &hist)
	if len(hist.Publications) != 1 || !hist.Publications[0].Binary || !bytes.Equal(hist.Publications[0].Data, raw) {
		t.Fatalf("history: %s", a.body)
	}
}

// Bad binary publications get a clear 4xx and the server keeps serving.
func TestBinaryPublishBadRequests(t *testing.T) {
	s := startKeyed(t, herald.Config{MaxPublicationSize: 100})
	octet := func(path string, body []byte) answer {
		return s.do(t, http.MethodPost, path, bytes.NewReader(body),
			map[string]string{"X-API-Key": testKey, "Content-Type": "application/octet-stream"})
	}
	if msg := octet("/api/publish", []byte{1}).expectError(t, http.StatusBadRequest, 107); !strings.Contains(msg, `"channel"`) {
		t.Errorf("no channel: %q", msg)
	}
	octet("/api/publish?channel=x", bytes.Repeat([]byte{1}, 101)).expectError(t, http.StatusRequestEntityTooLarge, 106)
	octet("/api/broadcast?channel=x", []byte{1}).expectError(t, http.StatusUnsupportedMediaType, 107)
	for _, body := range []string{
		`{"channel":"x","data":{"a":1},"binary":true}`,
		`{"channel":"x","data":"not base64!","binary":true}`,
		`{"channels":["x"],"data":7,"binary":true}`,
	} {
		method := "publish"
		if strings.Contains(body, "channels") {
			method = "broadcast"
		}
		if msg := s.call(t, method, body).expectError(t, http.StatusBadRequest, 107); !strings.Contains(msg, "base64") {
			t.Errorf("%s: message %q should say data must be base64", body, msg)
		}
	}
	var res struct{ Offset uint64 }
	octet("/api/publish?channel=x", nil).decode(t, &res) // zero bytes are a publication
	s.call(t, "publish", `{"channel":"x","data":{"still":"serving"}}`).decode(t, &res)
}
