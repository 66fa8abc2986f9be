package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// tokenOptions are the flags of `herald token` itself.
type tokenOptions struct {
	user         string
	ttl          time.Duration
	channels     []string
	info         string
	channelToken string
}

// tokenFlag is one flag of `herald token`: its FlagSet entry and its help
// derive from it.
type tokenFlag struct {
	name, arg, usage string
	def              string // default shown in help
	set              func(o *tokenOptions, v string) error
}

// tokenFlags are the flags of `herald token` itself, in the order help
// shows them.
var tokenFlags = []tokenFlag{
	{name: "user", arg: "ID", usage: "the user the token is for, its sub; required for a connection token, optional for a channel token (which then only this user may use)",
		set: func(o *tokenOptions, v string) error { o.user = v; return nil }},
	{name: "ttl", arg: "DURATION", def: "1h", usage: "how long the token is valid, from now",
		set: func(o *tokenOptions, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New("want a duration with a unit, like 1h or 30m")
			}
			o.ttl = d
			return nil
		}},
	{name: "channel", arg: "CH", usage: "a channel the server subscribes the connection to at connect (the token's channels claim); repeat for more",
		set: func(o *tokenOptions, v string) error {
			if v == "" {
				return errors.New("empty channel name")
			}
			o.channels = append(o.channels, v)
			return nil
		}},
	{name: "info", arg: "JSON", usage: `presence data of the connection, a JSON object like {"name":"Alice"} (the token's info claim)`,
		set: func(o *tokenOptions, v string) error { o.info = v; return nil }},
	{name: "channel-token", arg: "CH", usage: "mint a channel token for this channel instead of a connection token: it lets a connection subscribe to a private channel ($room) or one whose access is token",
		set: func(o *tokenOptions, v string) error { o.channelToken = v; return nil }},
}

// tokenSettings are the serve settings `herald token` reads, from a flag,
// the environment or the config file as serve does, so that the token
// passes the server's checks; and what it reads each one for.
var tokenSettings = []struct{ name, usage string }{
	{"config", "the server's YAML config file, read for the settings below"},
	{"token-secret", "the server's HMAC secret (at least 32 bytes); the token is signed with it (HS256). Prefer the environment variable, since flags show in ps"},
	{"token-audience", "when the server checks aud, the token's aud"},
	{"token-issuer", "when the server checks iss, the token's iss"},
	{"addr", "the server's address, for the URL printed on stderr"},
	{"tls-cert", "when set, that URL is wss://"},
	{"tls-key", "read with --tls-cert, as serve does"},
}

// newTokenFlagSet returns the FlagSet of `herald token`, which parses into
// o, and where the serve settings given as flags are recorded.
func newTokenFlagSet(o *tokenOptions) (*flag.FlagSet, *[]flagValue) {
	fs := newFlagSet("token")
	for _, f := range tokenFlags {
		fs.Func(f.name, f.usage, func(v string) error { return f.set(o, v) })
	}
	list := make([]setting, len(tokenSettings))
	for i, ts := range tokenSettings {
		s, ok := settingNamed(ts.name)
		if !ok {
			panic("cli: herald token reads an unknown setting " + ts.name)
		}
		list[i] = s
	}
	return fs, addSettingFlags(fs, list)
}

// writeTokenHelp prints the usage of `herald token` and its flags.
func writeTokenHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString(`Usage:
  herald token --user ID [--ttl 1h] [--channel CH]... [--info JSON]
  herald token --channel-token CH [--user ID] [--ttl 1h]

Prints a token signed with the server's token secret: a connection token,
which a client sends in connect, or with --channel-token a channel token,
which it sends with subscribe. The token alone goes to stdout, so that
TOKEN=$(herald token --user alice) works; how to use it goes to stderr.

Flags:
`)
	for _, f := range tokenFlags {
		fmt.Fprintf(&b, "  --%s %s\n        %s", f.name, f.arg, f.usage)
		if f.def != "" {
			fmt.Fprintf(&b, " (default %s)", f.def)
		}
		b.WriteString("\n")
	}
	b.WriteString(`
Settings read as herald serve reads them: a flag wins over the environment,
the environment over the config file.

`)
	for _, ts := range tokenSettings {
		s, _ := settingNamed(ts.name)
		s.usage = ts.usage
		writeSettingHelp(&b, s)
	}
	b.WriteString(`
Examples:
  export HERALD_TOKEN_SECRET=$(openssl rand -hex 32)   # the server's secret
  herald token --user alice --info '{"name":"Alice"}'
  herald token --user alice --channel news --ttl 15m
  herald token --channel-token '$alice-inbox' --user alice
`)
	io.WriteString(w, b.String())
}
