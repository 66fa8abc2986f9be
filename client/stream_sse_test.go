package client

import (
	"bufio"
	"strings"
	"testing"
)

// TestSSEReaderKeepsOnlyMessageEvents: after the hello, the SSE reader
// hands on the data of "message" events (named or not, several data lines
// joined by newlines) and drops events of other types, as a browser's
// EventSource onmessage does; comments and retry lines are ignored.
func TestSSEReaderKeepsOnlyMessageEvents(t *testing.T) {
	stream := "retry: 3000\nevent: session\ndata: {\"session\":\"s\",\"secret\":\"x\"}\n\n" +
		": a comment\n" +
		"data: {\"op\":\"ping\"}\n\n" +
		"event: stats\ndata: {\"not\":\"for us\"}\n\n" +
		"event: message\ndata: {\"a\":1}\ndata: {\"b\":2}\n\n"
	w := &streamWire{c: &Client{}, t: TransportSSE, frames: make(chan []byte, 16)}
	hello := make(chan []byte, 1)
	w.readLoop(bufio.NewReader(strings.NewReader(stream)), hello)
	if h := string(<-hello); h != `{"session":"s","secret":"x"}` {
		t.Fatalf("hello %q", h)
	}
	var got []string
	for f := range w.frames {
		got = append(got, string(f))
	}
	want := []string{`{"op":"ping"}`, "{\"a\":1}\n{\"b\":2}"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("frames %q, want %q", got, want)
	}
}
