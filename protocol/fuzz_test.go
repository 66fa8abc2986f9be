package protocol

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecodeCommand feeds the decoder arbitrary frames. It must never panic,
// and whatever it accepts must be a well-formed command: an op, an id where
// one is needed, and data that is valid JSON.
func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"op":"connect","token":"x","data":{"a":[1,2]}}`,
		`{"id":2,"op":"subscribe","channel":"chat:lobby","recover":true,"offset":15,"epoch":"x7"}`,
		`{"id":3,"op":"publish","channel":"c","data":"hi","key":"k"}`,
		`{"op":"pong"}`,
		`{"id":4,"op":"history","channel":"c","since":{"offset":1,"epoch":"e"},"limit":10}`,
		"{\"id\":1,\"op\":\"connect\"}\n{\"op\":\"pong\"}",
		`[[[[[[`, `{"a":"\"`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var cmd Command
		_ = SplitMessages(frame, func(msg []byte) error {
			if err := DecodeCommand(msg, &cmd); err != nil {
				return nil
			}
			if cmd.Op == "" {
				t.Fatalf("accepted a command without op: %q", msg)
			}
			if NeedsID(cmd.Op) && cmd.ID == 0 {
				t.Fatalf("accepted %q without id", cmd.Op)
			}
			if !cmd.Binary && len(cmd.Data) > 0 && !json.Valid(cmd.Data) {
				t.Fatalf("accepted invalid data %q", cmd.Data)
			}
			return nil
		})
	})
}

// FuzzDecodeCommandMatchesStdlib holds the decoder (segmentio's
// encoding/json, chosen for speed, with the standard library behind it for
// what it refuses) to the standard library's behaviour: on any message the
// same error, or none, and the same command.
func FuzzDecodeCommandMatchesStdlib(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"op":"connect","token":"x","data":{"a":[1,2]},"subs":{"c":{"offset":3,"epoch":"e"}}}`,
		`{"id":2,"op":"subscribe","channel":"chat:lobby","recover":true,"offset":15,"epoch":"x7"}`,
		`{"id":3,"op":"publish","channel":"c","data":"hi","key":"k"}`,
		`{"ID":3,"OP":"publish","Channel":"c","data":null}`,
		`{"id":4,"op":"history","channel":"c","since":{"offset":1,"epoch":"e"},"limit":-1,"reverse":false}`,
		`{"id":1.5,"op":"x"}`, `{"id":"1","op":"x"}`, `{"id":-1,"op":"x"}`, `{"id":18446744073709551616,"op":"x"}`,
		`{"op":"x","channel":"\ud800"}`, "{\"op\":\"\xff\"}", `{"op":"x","op":"y"}`,
		`{"op":"x","data":01}`, `{"channel":"x","id":7,"limit":"ten","op":"history"}`, `{"op":"x"} x`, `{"op":"x","limit":1e2}`, `{"op":"x","subs":{"c":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var fast, std Command
		errFast := DecodeCommand(msg, &fast)
		errStd := decodeCommandStdlib(msg, &std)
		if (errFast == nil) != (errStd == nil) || (errFast != nil && errFast.Error() != errStd.Error()) {
			t.Fatalf("%q: decoder says %v, encoding/json says %v", msg, errFast, errStd)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q: decoder gives %+v, encoding/json %+v", msg, fast, std)
		}
	})
}

// decodeCommandStdlib is DecodeCommand with the standard library's
// decoder: the reference of FuzzDecodeCommandMatchesStdlib.
func decodeCommandStdlib(msg []byte, cmd *Command) error {
	return decodeCommandWith(func(b []byte, c *Command) error { return json.Unmarshal(b, c) }, msg, cmd)
}

// FuzzAppendString checks the hand-written JSON string encoder against
// encoding/json on arbitrary input.
func FuzzAppendString(f *testing.F) {
	f.Add("hello")
	f.Add("\x00\xff\u2028<>&\"\\")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// FuzzJoinSplit holds AppendJoined and SplitMessages to being each other's
// inverse: the messages joined into one frame, however the limit cuts the
// batch, come out of it again the same and in order, and a frame stays
// within the limit unless it is one message.
func FuzzJoinSplit(f *testing.F) {
	f.Add([]byte("{\"a\":1}\x00{\"b\":2}\x00{\"c\":3}"), 0)
	f.Add([]byte("{\"a\":1}\x00{\"b\":2}\x00{\"c\":3}"), 15)
	f.Add([]byte("x\x00\x00 \x00\ry\x00z"), 1)
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		// Messages are what SplitMessages can give back: no newline, not
		// blank.
		var msgs [][]byte
		for _, m := range bytes.Split(data, []byte{0}) {
			if bytes.IndexByte(m, '\n') < 0 && len(bytes.TrimSpace(m)) > 0 {
				msgs = append(msgs, m)
			}
		}
		var got [][]byte
		var frame []byte
		for rest := msgs; len(rest) > 0; {
			var n int
			frame, n = AppendJoined(frame[:0], rest, limit)
			if n < 1 || n > len(rest) {
				t.Fatalf("took %d of %d messages", n, len(rest))
			}
			if limit > 0 && n > 1 && len(frame) > limit {
				t.Fatalf("a frame of %d messages is %d bytes, over the limit %d", n, len(frame), limit)
			}
			if limit > 0 && n < len(rest) && len(frame)+1+len(rest[n]) <= limit {
				t.Fatalf("stopped after %d messages though the next one fits in %d bytes", n, limit)
			}
			_ = SplitMessages(frame, func(m []byte) error {
				got = append(got, append([]byte(nil), m...))
				return nil
			})
			rest = rest[n:]
		}
		if len(got) != len(msgs) {
			t.Fatalf("joined %d messages, split %d", len(msgs), len(got))
		}
		for i := range msgs {
			if !bytes.Equal(got[i], msgs[i]) {
				t.Fatalf("message %d: joined %q, split %q", i, msgs[i], got[i])
			}
		}
	})
}
