package cli

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/heraldrt/herald"
)

// update makes the golden tests rewrite what they compare with.
var update = flag.Bool("update", false, "rewrite the golden files in testdata and the generated blocks of docs/configuration.md")

// TestReadFileGolden decodes each testdata/config/*.yaml over the defaults
// and compares the effective settings (re-encoded as YAML), or the error, with
// the .golden file beside it. Run with -update to rewrite the golden files.
func TestReadFileGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "config", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			c := Defaults()
			var got []byte
			if err := ReadFile(file, &c); err != nil {
				got = []byte("error: " + err.Error() + "\n")
			} else {
				got, err = yaml.Marshal(c)
				if err != nil {
					t.Fatal(err)
				}
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestReadFileGolden -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s:\ngot:\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

// TestReadFileFull checks the full example field by field, so that the
// golden files rest on a decoding that is known to be right.
func TestReadFileFull(t *testing.T) {
	c := Defaults()
	if err := ReadFile(filepath.Join("testdata", "config", "full.yaml"), &c); err != nil {
		t.Fatal(err)
	}
	// What the file sets; every other field keeps its default.
	want := Defaults()
	want.Addr = "127.0.0.1:9000"
	want.APIKey = "s3cret"
	want.Insecure = true
	want.TokenSecret = "0123456789abcdef0123456789abcdef"
	want.TokenPublicKey = "/etc/herald/rsa.pem,/etc/herald/ec.pem"
	want.TokenJWKSURL = "https://idp.example.com/.well-known/jwks.json"
	want.TokenAudience = "herald"
	want.TokenIssuer = "https://idp.example.com"
	want.TokenLeeway = 30 * time.Second
	want.RefreshAhead = 10 * time.Second
	want.Origins = "https://app.example.com, https://*.example.org"
	want.TLSCert = "/etc/herald/cert.pem"
	want.TLSKey = "/etc/herald/key.pem"
	want.LogFormat = "json"
	want.LogLevel = "debug"
	want.Name = "node-a"
	want.PingInterval = 20 * time.Second
	want.PongTimeout = 5 * time.Second
	want.MaxMessageSize = 128 << 10
	want.WriteQueueSize = 2 << 20
	want.WebsocketCompression = true
	want.WebsocketCompressionLevel = 6
	want.ShutdownWindow = 90 * time.Second
	want.HistorySize = 100
	want.HistoryTTL = 10 * time.Minute
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

// TestReadFileErrorsNameTheProblem: a bad config file is refused with an
// error naming the file, the line or key, and what to write; the config
// is left unchanged.
func TestReadFileErrorsNameTheProblem(t *testing.T) {
	for file, want := range map[string][]string{
		"unknown_key.yaml":           {"line 2", `unknown key "adress"`, "addr"},
		"duration_without_unit.yaml": {"line 1", "25s"},
		"bad_log_format.yaml":        {"log_format", "xml", "text or json"},
		"nested.yaml":                {`unknown key "history"`},
		"short_secret.yaml":          {"token_secret (hidden)", "32 bytes"},
		"bad_origin.yaml":            {"origins", "https://example.com.*"},
		"bad_jwks_url.yaml":          {"token_jwks_url", "https"},
		"origins_mapping.yaml":       {"line 2", "list of strings"},
		"config_key.yaml":            {`unknown key "config"`},
	} {
		c := Defaults()
		err := ReadFile(filepath.Join("testdata", "config", file), &c)
		if err == nil {
			t.Errorf("%s: no error", file)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", file, err, w)
			}
		}
		if !strings.Contains(err.Error(), file) {
			t.Errorf("%s: error %q does not name the file", file, err)
		}
		if !reflect.DeepEqual(c, Defaults()) {
			t.Errorf("%s: a failed read changed the config: %+v", file, c)
		}
	}
}

// TestReadFileMissing: a missing file is a not-exist error.
func TestReadFileMissing(t *testing.T) {
	c := Defaults()
	err := ReadFile(filepath.Join(t.TempDir(), "nope.yaml"), &c)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

// env returns a lookupEnv over vars.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// writeConfig writes text to a config file in a temporary directory and
// returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadPrecedence sets settings at every layer: a flag wins over the
// environment, the environment over the file, the file over the default.
func TestLoadPrecedence(t *testing.T) {
	file := writeConfig(t, `
addr: 127.0.0.1:1001
name: from-file
ping_interval: 1s
log_level: warn
history_size: 7
`)
	vars := map[string]string{
		"HERALD_CONFIG":        file,
		"HERALD_ADDR":          "127.0.0.1:2002",
		"HERALD_NAME":          "from-env",
		"HERALD_PONG_TIMEOUT":  "3s",
		"HERALD_INSECURE":      "true",
		"HERALD_HISTORY_SIZE":  "", // empty counts as unset
		"HERALD_API_KEY":       "env-key",
		"HERALD_LOG_FORMAT":    "text",
		"UNRELATED_VARIABLE_X": "ignored",
	}
	args := []string{"--addr", "127.0.0.1:3003", "-api-key=flag-key", "--insecure=false", "--addr=127.0.0.1:4004"}
	got, err := Load(args, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.ConfigFile = file
	want.Addr = "127.0.0.1:4004"       // flag (the last one)
	want.APIKey = "flag-key"           // flag over env
	want.Insecure = false              // flag over env
	want.Name = "from-env"             // env over file
	want.LogFormat = "text"            // env over default
	want.PongTimeout = 3 * time.Second // env over default
	want.PingInterval = time.Second    // file over default
	want.LogLevel = "warn"             // file over default
	want.HistorySize = 7               // file, the empty variable ignored
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestLoadEachLayerAlone sets settings at one layer at a time: defaults,
// the file (by flag or variable), the environment, flags.
func TestLoadEachLayerAlone(t *testing.T) {
	file := writeConfig(t, "write_queue_size: 4096\n")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want func(c *Config)
	}{
		{"defaults", nil, nil, func(c *Config) {}},
		{"file by flag", []string{"--config", file}, nil, func(c *Config) { c.ConfigFile = file; c.WriteQueueSize = 4096 }},
		{"file by env", nil, map[string]string{"HERALD_CONFIG": file}, func(c *Config) { c.ConfigFile = file; c.WriteQueueSize = 4096 }},
		{"config flag over env", []string{"--config=" + file}, map[string]string{"HERALD_CONFIG": "/does/not/exist.yaml"},
			func(c *Config) { c.ConfigFile = file; c.WriteQueueSize = 4096 }},
		{"env", nil, map[string]string{"HERALD_SHUTDOWN_WINDOW": "250ms", "HERALD_HISTORY_TTL": "1h", "HERALD_MAX_MESSAGE_SIZE": "1024"},
			func(c *Config) {
				c.ShutdownWindow = 250 * time.Millisecond
				c.HistoryTTL = time.Hour
				c.MaxMessageSize = 1024
			}},
		{"bool flag alone", []string{"--insecure"}, nil, func(c *Config) { c.Insecure = true }},
		{"bool env", nil, map[string]string{"HERALD_INSECURE": "1"}, func(c *Config) { c.Insecure = true }},
		{"flags", []string{"-log-level", "error", "--name", "n1", "--history-size", "0"}, nil,
			func(c *Config) { c.LogLevel = "error"; c.Name = "n1"; c.HistorySize = 0 }},
		{"repeated list flag adds", []string{"--origins", "https://a.example.com", "--token-public-key=a.pem,b.pem", "--origins=https://*.example.org", "--token-public-key", "c.pem"},
			map[string]string{"HERALD_ORIGINS": "https://env.example.com"},
			func(c *Config) {
				c.Origins = "https://a.example.com,https://*.example.org" // flags replace the environment, then add up
				c.TokenPublicKey = "a.pem,b.pem,c.pem"
			}},
		{"token settings from env", nil, map[string]string{
			"HERALD_TOKEN_SECRET": "0123456789abcdef0123456789abcdef", "HERALD_TOKEN_JWKS_URL": "http://127.0.0.1:9/jwks",
			"HERALD_TOKEN_LEEWAY": "5s", "HERALD_TLS_CERT": "c.pem", "HERALD_TLS_KEY": "k.pem"},
			func(c *Config) {
				c.TokenSecret = "0123456789abcdef0123456789abcdef"
				c.TokenJWKSURL = "http://127.0.0.1:9/jwks"
				c.TokenLeeway = 5 * time.Second
				c.TLSCert, c.TLSKey = "c.pem", "k.pem"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(tc.args, env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			want := Defaults()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestLoadErrors: bad values in a variable, a flag or the file are
// refused with an error naming where they came from; secrets are hidden.
func TestLoadErrors(t *testing.T) {
	bad := writeConfig(t, "ping_interval: 25\n")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"bad env duration", nil, map[string]string{"HERALD_PING_INTERVAL": "25"}, []string{"HERALD_PING_INTERVAL", `"25"`, "unit"}},
		{"bad env bool", nil, map[string]string{"HERALD_INSECURE": "maybe"}, []string{"HERALD_INSECURE", "true or false"}},
		{"bad env size", nil, map[string]string{"HERALD_MAX_MESSAGE_SIZE": "64k"}, []string{"HERALD_MAX_MESSAGE_SIZE", "whole number"}},
		{"negative env", nil, map[string]string{"HERALD_HISTORY_SIZE": "-5"}, []string{"HERALD_HISTORY_SIZE", "negative"}},
		{"bad env level", nil, map[string]string{"HERALD_LOG_LEVEL": "loud"}, []string{"HERALD_LOG_LEVEL", "debug, info, warn or error"}},
		{"bad flag duration", []string{"--pong-timeout", "ten"}, nil, []string{"pong-timeout", "unit"}},
		{"bad flag format", []string{"--log-format", "xml"}, nil, []string{"log-format", "text or json"}},
		{"bad flag addr", []string{"--addr", "8080"}, nil, []string{"addr", "host:port"}},
		{"unknown flag", []string{"--port", "80"}, nil, []string{"port"}},
		{"argument", []string{"--addr", "127.0.0.1:1", "extra"}, nil, []string{`"extra"`}},
		{"bad file", []string{"--config", bad}, nil, []string{bad, "line 1", "25s"}},
		{"missing file", nil, map[string]string{"HERALD_CONFIG": "/does/not/exist.yaml"}, []string{"/does/not/exist.yaml"}},
		{"short secret flag", []string{"--token-secret", "hunter2-is-short"}, nil, []string{"--token-secret=(hidden)", "32 bytes"}},
		{"short secret env", nil, map[string]string{"HERALD_TOKEN_SECRET": "hunter2-is-short"}, []string{"HERALD_TOKEN_SECRET=(hidden)", "32 bytes"}},
		{"bad origin flag", []string{"--origins", "https://*.com"}, nil, []string{"origins", "two labels"}},
		{"null origin", []string{"--origins", "null"}, nil, []string{"origins", "http or https"}},
		{"bad JWKS URL env", nil, map[string]string{"HERALD_TOKEN_JWKS_URL": "jwks.json"}, []string{"HERALD_TOKEN_JWKS_URL", "https"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.args, env(tc.env))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the secret", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestLoadHelp: -h, --help and -help ask for help.
func TestLoadHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		if _, err := Load([]string{arg}, env(nil)); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: got %v, want flag.ErrHelp", arg, err)
		}
	}
}

// TestSettingsCoverConfig keeps the settings table, the Config struct and
// its YAML tags in step.
func TestSettingsCoverConfig(t *testing.T) {
	typ := reflect.TypeOf(Config{})
	tags := map[string]bool{}
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("yaml"); tag != "-" {
			tags[tag] = true
		}
	}
	seen := map[string]bool{}
	fields := map[uintptr]string{}
	var c Config
	base := reflect.ValueOf(&c).Pointer()
	for _, s := range settings {
		if seen[s.env()] {
			t.Errorf("two settings named %s", s.env())
		}
		seen[s.env()] = true
		if k := s.key(); k != "" {
			if !tags[k] {
				t.Errorf("setting %s: Config has no field tagged yaml:%q", s.name, k)
			}
			delete(tags, k)
		}
		off := reflect.ValueOf(s.field(&c)).Pointer() - base
		if other, ok := fields[off]; ok {
			t.Errorf("settings %s and %s share a field", s.name, other)
		}
		fields[off] = s.name
		if err := s.check(new(Defaults())); err != nil {
			t.Errorf("default of %s is invalid: %v", s.name, err)
		}
	}
	for _, f := range fileOnlyKeys {
		k := f.key
		if !tags[k] {
			t.Errorf("file-only key %q has no Config field", k)
		}
		delete(tags, k)
	}
	for k := range tags {
		t.Errorf("Config field tagged yaml:%q has no setting", k)
	}
	if len(fields)+len(fileOnlyKeys) != typ.NumField() {
		t.Errorf("%d settings for %d Config fields", len(fields), typ.NumField())
	}
}

// TestHelpListsEverySetting: herald help shows every setting's flag,
// variable and config key.
func TestHelpListsEverySetting(t *testing.T) {
	var b strings.Builder
	writeHelp(&b)
	help := b.String()
	for _, want := range []string{"herald [serve]", "herald version", "herald help", "--insecure", "default 127.0.0.1:8080"} {
		if !strings.Contains(help, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
	for _, s := range settings {
		for _, want := range []string{"--" + s.name, s.env()} {
			if !strings.Contains(help, want) {
				t.Errorf("help does not mention %q", want)
			}
		}
		if k := s.key(); k != "" && !strings.Contains(help, "config key "+k) {
			t.Errorf("help does not mention config key %q", k)
		}
	}
}

// TestNamespacesReachTheNode: the namespaces of a config file become the
// node's; none configured means nil.
func TestNamespacesReachTheNode(t *testing.T) {
	c := Defaults()
	if err := ReadFile(filepath.Join("testdata", "config", "namespaces.yaml"), &c); err != nil {
		t.Fatal(err)
	}
	ns := c.namespaces(herald.Permissions{})
	if chat := ns["chat"]; chat.HistorySize != 50 || chat.HistoryTTL != 10*time.Minute || !chat.Presence || !chat.JoinLeave || chat.NoRecover {
		t.Fatalf("chat: %+v", chat)
	}
	if news := ns["news"]; news.HistorySize != 0 || !news.NoRecover {
		t.Fatalf("news: %+v", news)
	}
	if d := Defaults(); d.namespaces(herald.Permissions{}) != nil {
		t.Fatal("no namespaces configured must mean nil")
	}
}
