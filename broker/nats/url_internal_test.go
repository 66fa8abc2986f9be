package nats

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldrt/herald/broker"
)

func TestParseURL(t *testing.T) {
	good := map[string]target{
		"nats://127.0.0.1:4222":                       {servers: "nats://127.0.0.1:4222"},
		"nats://localhost":                            {servers: "nats://localhost:4222"},
		"host:4223":                                   {servers: "nats://host:4223"},
		"nats://u:p@a:1,nats://b:2":                   {servers: "nats://u:p@a:1,nats://b:2"},
		"nats://s3cret@a":                             {servers: "nats://s3cret@a:4222"},
		"tls://a:4443":                                {servers: "tls://a:4443", tls: true},
		"nats://[::1]:4222":                           {servers: "nats://[::1]:4222"},
		"nats://a?creds=/etc/u.creds":                 {servers: "nats://a:4222", creds: "/etc/u.creds"},
		"nats://a,nats://b?nkey=/k.nk&tls_ca=/ca.pem": {servers: "nats://a:4222,nats://b:4222", nkey: "/k.nk", tlsCA: "/ca.pem", tls: true},
		"nats://a?tls_cert=/c.pem&tls_key=/k.pem":     {servers: "nats://a:4222", tlsCert: "/c.pem", tlsKey: "/k.pem", tls: true},
	}
	for raw, want := range good {
		got, err := parseURL(raw)
		if err != nil {
			t.Errorf("parseURL(%q): %v", raw, err)
			continue
		}
		got.redacted = ""
		if got != want {
			t.Errorf("parseURL(%q) = %+v, want %+v", raw, got, want)
		}
	}
	for _, raw := range []string{
		"", "redis://a", "nats://", "nats://a:0", "nats://a:99999", "nats://a/path",
		"nats://a?what=1", "nats://a?creds=/x&nkey=/y", "nats://a?tls_cert=/c", "nats://a?creds=",
	} {
		_, err := parseURL(raw)
		if !errors.Is(err, ErrInvalidURL) {
			t.Errorf("parseURL(%q) = %v, want ErrInvalidURL", raw, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"nats://u:pw@a:1,nats://tok@b:2?creds=/x": "nats://u:xxxxx@a:1,nats://:xxxxx@b:2?creds=/x",
		"nats://a:1": "nats://a:1",
	} {
		if got := broker.RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
	_, err := parseURL("nats://u:pw@a:0")
	if err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("an error shows the password: %v", err)
	}
}
