package protocol

import (
	"encoding/json"
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
			if len(cmd.Data) > 0 && !json.Valid(cmd.Data) {
				t.Fatalf("accepted invalid data %q", cmd.Data)
			}
			return nil
		})
	})
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
