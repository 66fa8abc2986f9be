package nats

import (
	"strings"
	"testing"
)

func TestChannelToken(t *testing.T) {
	for ch, want := range map[string]string{
		"room1":        "room1",
		"chat:room.1":  "chat=3Aroom=2E1",
		"a*b>c":        "a=2Ab=3Ec",
		"x=y":          "x=3Dy",
		"héllo":        "h=C3=A9llo",
		"$private_one": "=24private_one",
		"":             "=",
	} {
		got := channelToken(ch)
		if got != want {
			t.Errorf("channelToken(%q) = %q, want %q", ch, got, want)
		}
		back, err := decodeToken(got)
		if err != nil || back != ch {
			t.Errorf("decodeToken(%q) = %q, %v; want %q", got, back, err, ch)
		}
	}
	for _, bad := range []string{"a.b", "=3", "=zz", "=41", "a b", "=4"} {
		if _, err := decodeToken(bad); err == nil {
			t.Errorf("decodeToken(%q) accepted a token channelToken never writes", bad)
		}
	}
}

// FuzzChannelToken checks that every channel name maps to one valid NATS
// subject token and KV key part, and back.
func FuzzChannelToken(f *testing.F) {
	for _, s := range []string{"", "a", "chat:room", "a.b.*.>", "=", "日本", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ch string) {
		tok := channelToken(ch)
		if tok == "" || strings.ContainsAny(tok, ". *>\t\r\n") {
			t.Fatalf("token %q of %q is not one subject token", tok, ch)
		}
		for i := 0; i < len(tok); i++ {
			if !plain(tok[i]) && tok[i] != '=' {
				t.Fatalf("token %q has byte %q outside [A-Za-z0-9_=-]", tok, tok[i])
			}
		}
		back, err := decodeToken(tok)
		if err != nil || back != ch {
			t.Fatalf("decodeToken(%q) = %q, %v; want %q", tok, back, err, ch)
		}
	})
}
