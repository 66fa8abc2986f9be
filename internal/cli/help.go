package cli

import (
	"fmt"
	"io"
	"strings"
)

// writeHelp prints the subcommands and the serve flags with their
// environment variables and config file keys.
func writeHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString(`Herald is a real-time WebSocket server: clients subscribe to channels and
publish; backends publish through the HTTP API.

Usage:
  herald [serve] [flags]   run the server (the default command)
  herald token --user ID [--ttl 1h] [--channel CH]... [--info JSON]
                           print a connection token signed with the token secret
  herald token --channel-token CH [--user ID] [--ttl 1h]
                           print a channel token for a private channel
                           (herald token --help)
  herald bench SCENARIO [flags]
                           load-test a deployment: idle, fanout, chat, churn, storm
                           (herald bench --help; docs/benchmarks.md)
  herald version           print the version, commit and Go version
  herald help              print this help

The server serves the WebSocket endpoint at /ws, the HTTP API at /api/, the
browser SDK at /herald.js and a demo chat at /.

Flags of serve. Each is also an environment variable and, except --config, a
key of the YAML config file. A flag wins over the environment, the
environment over the config file, the config file over the default.
Durations take a unit (25s, 1m30s); sizes are in bytes. The config file
also takes namespaces, channel settings per namespace ("chat" for
"chat:lobby"):

  namespaces:
    chat: {history_size: 100, history_ttl: 10m, presence: true, join_leave: true}
    news: {history_size: 0}

With namespaces configured, channels in unlisted namespaces are refused.

`)
	for _, s := range settings {
		writeSettingHelp(&b, s)
	}
	b.WriteString(`
Authentication: with a token key (--token-secret, --token-public-key or
--token-jwks-url), every connection must send a valid JWT in connect: its sub
is the user, its info the presence data, its channels are subscribed at
connect. Without a token, or with a bad one, connect fails with error 101 and
close code 3500; with an expired one, 109 and 3005 (get a new token). Any
authenticated user may subscribe and publish, except on channels whose name
starts with $: subscribing needs a channel token (a JWT with a channel claim),
publishing needs the subscription. herald token mints tokens with the secret;
run with --log-level debug to see why tokens are refused. Tokens and secrets
are never logged.

Open mode: without a token key, clients connect anonymously and may
subscribe and publish. The server then refuses to listen on an address other
than loopback (127.0.0.0/8, ::1, localhost) unless --insecure is given.

Origins: browsers may connect from the server's own origin and from those
--origins lists; other pages get 403 before the WebSocket upgrade. Clients
that send no Origin header (not browsers) are not checked.

SIGINT or SIGTERM shuts the server down gracefully: it stops accepting and
disconnects every client with code 3000 (reconnect), spread over the
shutdown window. A second signal exits at once.

Examples:
  herald                                   serve the demo at http://127.0.0.1:8080/
  herald --addr 127.0.0.1:9000 --log-format json
  HERALD_API_KEY=secret herald --config herald.yaml
  export HERALD_TOKEN_SECRET=$(openssl rand -hex 32)
  herald --addr 0.0.0.0:8080 --origins https://app.example.com
  herald --addr :443 --acme-domains rt.example.com --acme-email ops@example.com --acme-http-addr :80
  herald token --user alice --info '{"name":"Alice"}'
`)
	io.WriteString(w, b.String())
}

// writeSettingHelp writes the help of one setting: its flag, what it does,
// its default, its environment variable and config file key.
func writeSettingHelp(b *strings.Builder, s setting) {
	b.WriteString("  --" + s.name)
	if s.arg != "" {
		b.WriteString(" " + s.arg)
	}
	b.WriteString("\n        " + s.usage)
	switch def := s.defaultText(); {
	case s.defText != "":
		fmt.Fprintf(b, " (default: %s)", def)
	case def != "":
		fmt.Fprintf(b, " (default %s)", def)
	}
	b.WriteString("\n        env " + s.env())
	if k := s.key(); k != "" {
		b.WriteString(", config key " + k)
	}
	b.WriteString("\n")
}
