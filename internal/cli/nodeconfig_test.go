package cli

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

// comparableConfig returns n without its functions (CheckOrigin,
// ChannelTokenVerifier), which reflect.DeepEqual cannot compare.
func comparableConfig(n herald.Config) herald.Config {
	n.CheckOrigin, n.ChannelTokenVerifier = nil, nil
	return n
}

// otherValue returns a valid value of s, spelled as a flag, that differs
// from its default.
func otherValue(t *testing.T, s setting) string {
	t.Helper()
	def := Defaults()
	switch s.field(&def).(type) {
	case *bool:
		return "true"
	case *int:
		return "7"
	case *time.Duration:
		return "7s"
	}
	switch {
	case strings.HasSuffix(s.name, "-access"):
		return "none"
	case s.name == "trusted-proxies":
		return "10.0.0.0/8"
	case s.name == "io-uring":
		return "off"
	}
	return "x-" + s.name
}

// TestEveryNodeSettingReachesHeraldConfig: each setting with a node
// function changes nodeConfig's result when it changes, so none is
// silently dropped on the way to the node.
func TestEveryNodeSettingReachesHeraldConfig(t *testing.T) {
	base := Defaults()
	want, err := base.nodeConfig(slog.Default(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range settings {
		if s.node == nil {
			continue
		}
		n++
		c := Defaults()
		v := otherValue(t, s)
		if s.isBool() && s.String(&c) == "true" {
			v = "false"
		}
		if err := s.set(&c, v); err != nil {
			t.Fatalf("--%s=%s: %v", s.name, v, err)
		}
		got, err := c.nodeConfig(slog.Default(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(comparableConfig(got), comparableConfig(want)) {
			t.Errorf("--%s=%s does not change herald.Config", s.name, v)
		}
	}
	if n < 30 {
		t.Errorf("only %d settings reach herald.Config", n)
	}
}

// TestNodeConfigDefaults: the binary's defaults are the node's and its
// channel defaults are the documented ones: history 100 for 5 minutes,
// recovery on, any user with authentication and anyone in open mode, $
// channels private only with authentication.
func TestNodeConfigDefaults(t *testing.T) {
	c := Defaults()
	open, err := c.nodeConfig(slog.Default(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	anyone := herald.Permissions{Subscribe: herald.AccessAnyone, Publish: herald.AccessAnyone, Presence: herald.AccessAnyone, History: herald.AccessAnyone}
	if want := (herald.ChannelOptions{HistorySize: 100, HistoryTTL: 5 * time.Minute, Permissions: anyone}); open.Channels != want {
		t.Errorf("open mode channels %+v, want %+v", open.Channels, want)
	}
	if open.PrivateChannelPrefix != "" || open.Limits.CommandBurst != 200 || open.PingInterval != 25*time.Second {
		t.Errorf("open mode: %+v", open)
	}
	c.TokenSecret = testSecret
	authed, _ := c.nodeConfig(slog.Default(), nil, nil)
	user := herald.Permissions{Subscribe: herald.AccessUser, Publish: herald.AccessUser, Presence: herald.AccessUser, History: herald.AccessUser}
	if authed.Channels.Permissions != user || authed.PrivateChannelPrefix != "$" {
		t.Errorf("with a token secret: permissions %+v, private prefix %q", authed.Channels.Permissions, authed.PrivateChannelPrefix)
	}
}

// TestNamespaceKeysAreSettings: every key of a namespace is a top-level
// setting of the same type, whose meaning (docs) and checks it shares.
func TestNamespaceKeysAreSettings(t *testing.T) {
	typ := reflect.TypeFor[Namespace]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		key := f.Tag.Get("yaml")
		s, ok := settingWithKey(key)
		if !ok {
			t.Errorf("namespace key %s is no top-level setting", key)
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if st := reflect.TypeOf(s.field(&Config{})).Elem(); st != ft {
			t.Errorf("namespace key %s is a %v, the setting a %v", key, ft, st)
		}
	}
}

// TestNamespaceOptionsMatchTopLevel: a namespace that sets every key as the
// top level does gets the same herald.ChannelOptions, so the two
// conversions agree.
func TestNamespaceOptionsMatchTopLevel(t *testing.T) {
	no := false
	ns := Namespace{HistorySize: 9, HistoryTTL: time.Minute, Recover: &no, MaxRecover: 3, Presence: true, JoinLeave: true,
		SubscribeAccess: "token", PublishAccess: "none", PresenceAccess: "user", HistoryAccess: "anyone"}
	c := Defaults()
	c.HistorySize, c.HistoryTTL, c.Recover, c.MaxRecover, c.Presence, c.JoinLeave = 9, time.Minute, false, 3, true, true
	c.SubscribeAccess, c.PublishAccess, c.PresenceAccess, c.HistoryAccess = "token", "none", "user", "anyone"
	c.Namespaces = map[string]Namespace{"chat": ns, "empty": {}}
	n, err := c.nodeConfig(slog.Default(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.Namespaces["chat"] != n.Channels {
		t.Errorf("namespace %+v, top level %+v", n.Namespaces["chat"], n.Channels)
	}
	// A namespace that sets nothing keeps no history, allows recovery and
	// takes the top-level permissions.
	if want := (herald.ChannelOptions{Permissions: n.Channels.Permissions}); n.Namespaces["empty"] != want {
		t.Errorf("empty namespace %+v, want %+v", n.Namespaces["empty"], want)
	}
}
