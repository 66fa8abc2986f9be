package websocket

import (
	"bytes"
	"testing"

	"github.com/heraldrt/herald/internal/wsframe"
)

// clientFrame builds a frame header plus payload as a client sends it;
// the payload is not really masked (the guard never looks at it).
func clientFrame(n int, masked bool) []byte {
	var key []byte
	if masked {
		key = []byte{1, 2, 3, 4}
	}
	b := wsframe.AppendHeader(nil, true, wsframe.OpText, n, key)
	// A payload of bytes that would look like unmasked headers if the guard
	// lost its place in the stream.
	return append(b, bytes.Repeat([]byte{0x01}, n)...)
}

// The guard must follow frame boundaries however the stream is cut into
// reads: masked frames of every length encoding pass, and the first
// unmasked frame is caught, whatever read it starts in.
func TestFrameGuardFollowsFramesAcrossReads(t *testing.T) {
	var good []byte
	for _, n := range []int{0, 1, 125, 126, 300, 65535, 65536, 70000} {
		good = append(good, clientFrame(n, true)...)
	}
	bad := append(append([]byte(nil), good...), clientFrame(5, false)...)

	for _, step := range []int{1, 2, 3, 7, 13, 14, 4096, len(bad)} {
		var g frameGuard
		for i := 0; i < len(good); i += step {
			if !g.check(good[i:min(i+step, len(good))]) {
				t.Fatalf("read size %d: masked stream refused at byte %d", step, i)
			}
		}
		var h frameGuard
		ok := true
		for i := 0; i < len(bad) && ok; i += step {
			ok = h.check(bad[i:min(i+step, len(bad))])
		}
		if ok {
			t.Fatalf("read size %d: unmasked frame after %d good bytes not caught", step, len(good))
		}
		if h.check(clientFrame(1, true)) {
			t.Fatalf("read size %d: guard accepted data after refusing", step)
		}
	}
}

func TestFrameGuardRefusesUnmaskedFirstFrame(t *testing.T) {
	var g frameGuard
	if g.check(clientFrame(10, false)[:2]) {
		t.Fatal("an unmasked first frame passed")
	}
}

func FuzzFrameGuard(f *testing.F) {
	f.Add(clientFrame(3, true), 1)
	f.Add(append(clientFrame(200, true), clientFrame(1, false)...), 5)
	f.Fuzz(func(t *testing.T, data []byte, step int) {
		if step <= 0 {
			step = 1
		}
		// Reads of any size must reach the same verdict as one read.
		var whole, split frameGuard
		want := whole.check(data)
		got := true
		for i := 0; i < len(data) && got; i += step {
			got = split.check(data[i:min(i+step, len(data))])
		}
		if got != want {
			t.Fatalf("verdict %v in reads of %d, %v in one read", got, step, want)
		}
	})
}

// Continuation frames must continue a fragmented message; control frames
// may come between the fragments.
func TestFrameGuardTracksFragments(t *testing.T) {
	key := []byte{1, 2, 3, 4}
	frame := func(b0 byte) []byte { return append([]byte{b0, 0x80}, key...) }
	cases := []struct {
		name   string
		frames [][]byte
		ok     bool
	}{
		{"whole message", [][]byte{frame(0x81)}, true},
		{"fragments with a ping between", [][]byte{frame(0x01), frame(0x89), frame(0x00), frame(0x80)}, true},
		{"stray continuation", [][]byte{frame(0x80)}, false},
		{"continuation after a finished message", [][]byte{frame(0x01), frame(0x80), frame(0x00)}, false},
	}
	for _, tc := range cases {
		var g frameGuard
		ok := true
		for _, f := range tc.frames {
			ok = ok && g.check(f)
		}
		if ok != tc.ok {
			t.Errorf("%s: verdict %v, want %v (%s)", tc.name, ok, tc.ok, g.failed)
		}
	}
}
