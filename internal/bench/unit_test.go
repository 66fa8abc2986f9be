package bench

import (
	"math"
	"slices"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:8080", "127.9.8.7:1", "[::1]:80", "localhost:8080", "127.0.0.1"} {
		if err := checkLoopback(ok); err != nil {
			t.Errorf("checkLoopback(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"10.0.0.1:80", "8.8.8.8:53", "[2001:db8::1]:80", "0.0.0.0:80", "[::]:80", "192.168.0.1", ":8080"} {
		if err := checkLoopback(bad); err == nil {
			t.Errorf("checkLoopback(%q) accepted a non-loopback address", bad)
		}
	}
}

func TestParseSourceIPs(t *testing.T) {
	got, err := parseSourceIPs("127.0.0.1-127.0.0.3, 127.0.1.9")
	if err != nil || !slices.Equal(got, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.1.9"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"127.0.0.5-127.0.0.1", "10.0.0.1", "127.255.255.254-128.0.0.1", "nope", "127.0.0.1-::1"} {
		if _, err := parseSourceIPs(bad); err == nil {
			t.Errorf("parseSourceIPs(%q) accepted it", bad)
		}
	}
}

func TestPercentiles(t *testing.T) {
	h := newHist()
	for v := int64(1); v <= 10000; v++ { // 1 µs .. 10 ms, uniform
		recordUS(h, v*1000)
	}
	l := summarize(h)
	near := func(name string, got, want float64) {
		if math.Abs(got-want)/want > 0.002 {
			t.Errorf("%s = %v ms, want %v", name, got, want)
		}
	}
	near("p50", l.P50, 5)
	near("p90", l.P90, 9)
	near("p99", l.P99, 9.9)
	near("p99.9", l.P999, 9.99)
	near("max", l.Max, 10)
	if l.Count != 10000 {
		t.Errorf("count %d", l.Count)
	}

	// Splitting the samples over two histograms, sending them sparse and
	// merging gives the same percentiles.
	a, b := newHist(), newHist()
	for v := int64(1); v <= 10000; v++ {
		if v%2 == 0 {
			recordUS(a, v*1000)
		} else {
			recordUS(b, v*1000)
		}
	}
	m := newHist()
	toSparse(a).addTo(m)
	toSparse(b).addTo(m)
	if got := summarize(m); got != l {
		t.Errorf("merged %+v, want %+v", got, l)
	}
}

func TestMergeResults(t *testing.T) {
	lat := newHist()
	recordUS(lat, 2e6)
	w1 := &workerResult{Progress: progress{Connects: 3, Deliveries: 31, Errors: 1}, Unique: 29, Duplicates: 2,
		Latency: toSparse(lat), Errors: map[string]int64{"connect: timeout": 1}}
	w2 := &workerResult{Progress: progress{Connects: 2, Deliveries: 20}, Unique: 20, Latency: toSparse(lat)}
	r := &Result{Scenario: scenarioFanout, Publications: &Publications{OK: 10}}
	r.mergeResults([]*workerResult{w1, w2})
	if r.Connected != 5 || r.Deliveries != 51 || r.Expected != 50 || r.Lost != 1 || r.Duplicates != 2 || r.Errors != 1 {
		t.Fatalf("merged %+v", r)
	}
	if r.Latency.Count != 2 || r.ErrorKinds["connect: timeout"] != 1 {
		t.Fatalf("latency %+v, errors %v", r.Latency, r.ErrorKinds)
	}

	// Chat: expected = sum over rooms of members × publications acked.
	c1 := &workerResult{Unique: 10, RoomMembers: []int64{2, 1}, RoomAcked: []int64{3, 0}}
	c2 := &workerResult{Unique: 8, RoomMembers: []int64{1, 2}, RoomAcked: []int64{1, 2}}
	r = &Result{Scenario: scenarioChat}
	r.mergeResults([]*workerResult{c1, c2})
	if r.Expected != 3*4+3*2 || r.Lost != 0 {
		t.Fatalf("chat expected %d, lost %d", r.Expected, r.Lost)
	}
}

func TestPayload(t *testing.T) {
	for _, size := range []int{64, 128, 1000} {
		for _, c := range []int64{-1, 0, 12345} {
			p := appendPayload(nil, c, 42, 1764127800123456789, size)
			if len(p) != size {
				t.Errorf("size %d: got %d bytes: %s", size, len(p), p)
			}
			gc, gs, gt, ok := parsePayload(p)
			if !ok || gc != c || gs != 42 || gt != 1764127800123456789 {
				t.Errorf("parsePayload(%s) = %d %d %d %v", p, gc, gs, gt, ok)
			}
		}
	}
	for _, bad := range []string{"", "null", `{"x":1}`, `{"s":1}`, `{"s":"a","t":1}`} {
		if _, _, _, ok := parsePayload([]byte(bad)); ok {
			t.Errorf("parsePayload(%q) ok", bad)
		}
	}
}

func TestCodecs(t *testing.T) {
	h := heraldCodec{}
	cases := []struct {
		c    codec
		msg  string
		kind int
		id   uint64
		err  string
		data string
	}{
		{h, `{"op":"pub","channel":"a","data":{"s":1,"t":2},"time":3}`, evPub, 0, "", `{"s":1,"t":2},"time":3}`},
		{h, `{"channel":"a","op":"pub","data":{"s":1,"t":2}}`, evPub, 0, "", `{"s":1,"t":2}`},
		{h, `{"op":"ping"}`, evPing, 0, "", ""},
		{h, `{"id":2,"result":{}}`, evReply, 2, "", ""},
		{h, `{"id":3,"error":{"code":103,"message":"permission denied"}}`, evReply, 3, "error 103 permission denied", ""},
		{h, `{"op":"disconnect","code":3002,"reason":"slow","reconnect":true}`, evDisconnect, 0, "disconnect 3002", ""},
		{h, `not json`, evOther, 0, "", ""},
		{centrifugoCodec{}, `{}`, evPing, 0, "", ""},
		{centrifugoCodec{}, `{"push":{"channel":"a","pub":{"data":{"s":1,"t":2},"offset":4}}}`, evPub, 0, "", `{"s":1,"t":2},"offset":4}}}`},
		{centrifugoCodec{}, `{"id":1,"connect":{"client":"x","version":"6.9.1","ping":25,"pong":true}}`, evReply, 1, "", ""},
		{centrifugoCodec{}, `{"id":2,"error":{"code":103,"message":"permission denied"}}`, evReply, 2, "error 103 permission denied", ""},
		{centrifugoCodec{}, `{"push":{"disconnect":{"code":3001,"reason":"shutdown"}}}`, evDisconnect, 0, "disconnect 3001", ""},
	}
	for _, tc := range cases {
		ev := tc.c.parse([]byte(tc.msg))
		if ev.kind != tc.kind || ev.id != tc.id || ev.err != tc.err || string(ev.data) != tc.data {
			t.Errorf("parse(%s) = %+v (data %s)", tc.msg, ev, ev.data)
		}
		if ev.kind == evPub {
			if _, s, tm, ok := parsePayload(ev.data); !ok || s != 1 || tm != 2 {
				t.Errorf("payload of %s not readable", tc.msg)
			}
		}
	}
	if got := string(h.appendPublish(nil, 7, "c", []byte(`{"s":1}`))); got != `{"id":7,"op":"publish","channel":"c","data":{"s":1}}` {
		t.Errorf("herald publish %s", got)
	}
	if got := string(centrifugoCodec{}.appendPublish(nil, 7, "c", []byte(`{"s":1}`))); got != `{"id":7,"publish":{"channel":"c","data":{"s":1}}}` {
		t.Errorf("centrifugo publish %s", got)
	}
}
