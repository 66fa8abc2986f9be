package wsframe

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The example of RFC 6455 section 1.3.
func TestAcceptKey(t *testing.T) {
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
}

func TestUpgradeRequest(t *testing.T) {
	u, _ := url.Parse("ws://127.0.0.1:8080/ws?x=1")
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(UpgradeRequest(u, "a2V5"))))
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodGet || req.RequestURI != "/ws?x=1" || req.Host != "127.0.0.1:8080" ||
		req.Header.Get("Upgrade") != "websocket" || req.Header.Get("Connection") != "Upgrade" ||
		req.Header.Get("Sec-WebSocket-Version") != "13" || req.Header.Get("Sec-WebSocket-Key") != "a2V5" {
		t.Fatalf("request %s %s, host %q, header %v", req.Method, req.RequestURI, req.Host, req.Header)
	}
}

// Every length encoding, masked and not, reads back as written.
func TestRoundTrip(t *testing.T) {
	key := []byte{0x11, 0x22, 0x33, 0x44}
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		for _, k := range [][]byte{nil, key} {
			payload := bytes.Repeat([]byte{'x'}, n)
			b := AppendFrame(nil, n%2 == 0, OpBinary, payload, k)
			hlen := HeaderLen(b[1])
			if want := len(AppendHeader(nil, true, OpBinary, n, k)); hlen != want {
				t.Fatalf("n=%d masked=%v: HeaderLen %d, header is %d bytes", n, k != nil, hlen, want)
			}
			if got := PayloadLen(b); got != uint64(n) {
				t.Fatalf("n=%d masked=%v: PayloadLen %d", n, k != nil, got)
			}
			if len(b) != hlen+n {
				t.Fatalf("n=%d masked=%v: frame of %d bytes", n, k != nil, len(b))
			}
			if k != nil && n > 0 && bytes.Equal(b[hlen:], payload) {
				t.Fatalf("n=%d: the payload was not masked", n)
			}
			f, err := ReadFrame(bufio.NewReader(bytes.NewReader(b)))
			if err != nil {
				t.Fatalf("n=%d masked=%v: %v", n, k != nil, err)
			}
			if f.Fin != (n%2 == 0) || f.Op != OpBinary || f.Masked != (k != nil) || !bytes.Equal(f.Payload, payload) {
				t.Fatalf("n=%d masked=%v: read fin %v op %d masked %v, %d bytes", n, k != nil, f.Fin, f.Op, f.Masked, len(f.Payload))
			}
		}
	}
}

// Mask, which works a word at a time, matches the byte-by-byte masking
// of RFC 6455 section 5.3 at every length.
func TestMask(t *testing.T) {
	key := []byte{0xA1, 0xB2, 0xC3, 0xD4}
	for n := 0; n <= 40; n++ {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i * 7)
		}
		want := append([]byte(nil), p...)
		for i := range want {
			want[i] ^= key[i%4]
		}
		Mask(p, key)
		if !bytes.Equal(p, want) {
			t.Fatalf("n=%d: masked %x, want %x", n, p, want)
		}
	}
}

// RSV bits pass through AppendHeader and are left out of Frame.Op.
func TestRSVBits(t *testing.T) {
	b := AppendHeader(nil, true, 0x40|OpText, 0, nil)
	if b[0] != 0xC1 {
		t.Fatalf("first byte %#x, want 0xc1", b[0])
	}
	f, err := ReadFrame(bytes.NewReader(b))
	if err != nil || f.Op != OpText {
		t.Fatalf("read op %d, %v", f.Op, err)
	}
}

func TestReadFrameRefusesHugeLength(t *testing.T) {
	b := AppendHeader(nil, true, OpText, maxReadPayload+1, nil)
	if _, err := ReadFrame(bytes.NewReader(b)); err == nil {
		t.Fatal("read a frame header promising more than 1 GiB")
	}
}

func TestReadFrameTruncated(t *testing.T) {
	b := append(AppendHeader(nil, true, OpText, 300, []byte{1, 2, 3, 4}), make([]byte, 300)...)
	for i := range b {
		if _, err := ReadFrame(bytes.NewReader(b[:i])); err == nil {
			t.Fatalf("read a whole frame from its first %d of %d bytes", i, len(b))
		}
	}
}

// FuzzReadFrame reads arbitrary bytes as frames: no panic, and whatever
// it reads encodes back to a frame that reads the same.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendHeader(nil, true, OpText, 3, []byte{1, 2, 3, 4}))
	f.Add(AppendFrame(nil, false, OpPing, []byte("hi"), nil))
	f.Add([]byte{0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			fr, err := ReadFrame(r)
			if err != nil {
				return
			}
			var key []byte
			if fr.Masked {
				key = []byte{9, 8, 7, 6}
			}
			b := AppendFrame(nil, fr.Fin, fr.Op, fr.Payload, key)
			again, err := ReadFrame(bytes.NewReader(b))
			if err != nil || again.Fin != fr.Fin || again.Op != fr.Op || again.Masked != fr.Masked || !bytes.Equal(again.Payload, fr.Payload) {
				t.Fatalf("re-encoded frame read as %+v, %v; want %+v", again, err, fr)
			}
		}
	})
}
