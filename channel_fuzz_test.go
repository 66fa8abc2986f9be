package herald

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzChannelName feeds arbitrary channel names to the checks every
// command passes through: they must never panic, what they accept must be
// valid UTF-8 of bounded length without spaces or control characters, and
// the namespace must be a prefix before a colon.
func FuzzChannelName(f *testing.F) {
	for _, s := range []string{"chat:lobby", "", ":x", "a:b:c", "x\x00", "with space", "\xff", strings.Repeat("a", 300), "$private", "ns:#u1,u2"} {
		f.Add(s)
	}
	n := &Node{cfg: Config{Namespaces: map[string]ChannelOptions{"chat": {}}}}
	n.cfg.Limits.setDefaults()
	n.defaults = normalized(n.cfg.Channels)
	f.Fuzz(func(t *testing.T, channel string) {
		_, err := n.channelOptions(channel)
		if err == nil || err == ErrUnknownChannel {
			if err := n.checkChannel(channel); err != nil {
				t.Fatalf("%q passed channelOptions but not checkChannel: %v", channel, err)
			}
			if len(channel) == 0 || len(channel) > n.cfg.Limits.MaxChannelLength || !utf8.ValidString(channel) {
				t.Fatalf("accepted %q", channel)
			}
			for _, r := range channel {
				if unicode.IsSpace(r) || unicode.IsControl(r) {
					t.Fatalf("accepted %q with %U", channel, r)
				}
			}
		}
		if ns := namespaceOf(channel); ns != "" && !strings.HasPrefix(channel, ns+":") {
			t.Fatalf("namespace %q of %q", ns, channel)
		}
	})
}
