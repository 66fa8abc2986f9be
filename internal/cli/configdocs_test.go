package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// configurationDoc is the page whose generated blocks TestConfigurationDocs
// keeps in step with the settings table.
var configurationDoc = filepath.Join("..", "..", "docs", "configuration.md")

// regenerate is the command that rewrites the generated blocks.
const regenerate = "go test ./internal/cli -run TestConfigurationDocs -update"

// docBlocks are the generated blocks of docs/configuration.md, each between
// "<!-- generated: NAME ... -->" and "<!-- end generated: NAME -->".
var docBlocks = []struct {
	name string
	gen  func() string
}{
	{"settings", settingsTable},
	{"namespace-keys", namespaceTable},
	{"help", func() string {
		var b strings.Builder
		writeHelp(&b)
		return "```\n" + b.String() + "```\n"
	}},
	{"token-help", func() string {
		var b strings.Builder
		writeTokenHelp(&b)
		return "```\n" + b.String() + "```\n"
	}},
}

// cell escapes s for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// code returns s as a Markdown code span in a table cell.
func code(s string) string { return "`" + cell(s) + "`" }

// settingsTable returns the table of every setting: flag, environment
// variable, config file key, default and meaning, in the settings order,
// then the keys only the config file takes.
func settingsTable() string {
	var b strings.Builder
	b.WriteString("| Flag | Environment variable | Config file key | Default | Meaning |\n| --- | --- | --- | --- | --- |\n")
	for _, s := range settings {
		flag := "--" + s.name
		if s.arg != "" {
			flag += " " + s.arg
		}
		key := "—"
		if k := s.key(); k != "" {
			key = code(k)
		}
		def := "—"
		switch d := s.defaultText(); {
		case s.defText != "":
			def = cell(d)
		case d != "":
			def = code(d)
		case s.isBool():
			def = code("false")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(flag), code(s.env()), key, def, cell(s.usage))
	}
	for _, f := range fileOnlyKeys {
		fmt.Fprintf(&b, "| — | — | %s | — | %s |\n", code(f.key), cell(f.usage))
	}
	return b.String()
}

// namespaceTable returns the table of the keys a namespace takes, with
// the meaning of the top-level setting of the same key and the
// namespace's own default (see Namespace).
func namespaceTable() string {
	var b strings.Builder
	b.WriteString("| Key | Default in a namespace | Meaning |\n| --- | --- | --- |\n")
	for _, key := range namespaceKeys() {
		s, _ := settingWithKey(key)
		var def string
		switch {
		case strings.HasSuffix(key, "_access"):
			def = "the top-level `" + key + "`"
		case key == "recover":
			def = code("true")
		default:
			var zero Config
			def = code(s.String(&zero))
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", code(key), def, cell(s.usage))
	}
	return b.String()
}

// replaceBlock returns doc with the generated block name replaced by body,
// and the body it had.
func replaceBlock(doc, name, body string) (string, string, error) {
	begin := "<!-- generated: " + name + ";"
	end := "<!-- end generated: " + name + " -->"
	i := strings.Index(doc, begin)
	if i < 0 {
		return "", "", fmt.Errorf("no %q marker", begin)
	}
	j := strings.Index(doc[i:], "-->\n")
	k := strings.Index(doc, end)
	if j < 0 || k < i {
		return "", "", fmt.Errorf("block %s has no %q after its start", name, end)
	}
	start := i + j + len("-->\n")
	return doc[:start] + body + doc[k:], doc[start:k], nil
}

// TestConfigurationDocs keeps docs/configuration.md's table of settings,
// its table of namespace keys and its copies of `herald help` and `herald
// token --help` equal to what the code generates: a setting added,
// removed or renamed without regenerating them fails here. Run it with
// -update to regenerate them.
func TestConfigurationDocs(t *testing.T) {
	old, err := os.ReadFile(configurationDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(old)
	for _, blk := range docBlocks {
		want := blk.gen()
		var got string
		doc, got, err = replaceBlock(doc, blk.name, want)
		if err != nil {
			t.Fatalf("%s: %v", configurationDoc, err)
		}
		if got != want && !*update {
			t.Errorf("%s: the generated block %q is out of date (first difference: %s); regenerate it with:\n  %s",
				configurationDoc, blk.name, firstDifference(got, want), regenerate)
		}
	}
	if *update && doc != string(old) {
		if err := os.WriteFile(configurationDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// firstDifference describes the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, the code generates %q", i+1, gl, wl)
		}
	}
	return "none"
}

// Patterns of what the docs may name: a flag, an environment variable, a
// config file key in a code span (`history_size` or `api_key: x`), and a
// command line that runs herald.
var (
	flagName    = regexp.MustCompile(`(?:^|[^\w-])--([a-z][a-z0-9-]*)`)
	envName     = regexp.MustCompile(`\bHERALD_[A-Z0-9_]*[A-Z0-9]\b`)
	keyInCode   = regexp.MustCompile("`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?::[^`]*)?`")
	heraldRun   = regexp.MustCompile(`(?:^|[\s(;&|])herald\s`)
	fenceMarker = regexp.MustCompile("^\\s*```\\s*(\\w*)")
)

// TestDocsNameOnlyAcceptedSettings reads the pages about the binary's
// settings and fails on any flag, environment variable or config file key
// that herald does not accept, and on any YAML example that it would
// refuse. Flags in code blocks count on the command lines that run herald
// (others belong to curl, nginx and the like).
func TestDocsNameOnlyAcceptedSettings(t *testing.T) {
	flags, envs, keys := map[string]bool{"help": true}, map[string]bool{}, map[string]bool{}
	for _, s := range settings {
		flags[s.name], envs[s.env()] = true, true
	}
	for _, f := range tokenFlags {
		flags[f.name] = true
	}
	for _, k := range append(yamlKeys(), namespaceKeys()...) {
		keys[k] = true
	}
	for _, page := range []string{configurationDoc, filepath.Join("..", "..", "docs", "security.md")} {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		var (
			fence     string // the language of the open code block, "-" for none
			yamlStart int
			yamlText  strings.Builder
			command   bool // the line continues a herald command line
		)
		for i, line := range strings.Split(string(text), "\n") {
			where := fmt.Sprintf("%s:%d", page, i+1)
			if m := fenceMarker.FindStringSubmatch(line); m != nil {
				switch {
				case fence == "":
					fence, yamlStart = m[1]+"-", i+1
					yamlText.Reset()
				case fence == "yaml-":
					c := Defaults()
					if err := decodeYAML(strings.NewReader(yamlText.String()), &c); err != nil {
						t.Errorf("%s: herald refuses this YAML example: %v", fmt.Sprintf("%s:%d", page, yamlStart), err)
					}
					fence = ""
				default:
					fence = ""
				}
				continue
			}
			for _, v := range envName.FindAllString(line, -1) {
				if !envs[v] {
					t.Errorf("%s: %s is not a variable herald reads", where, v)
				}
			}
			switch {
			case fence == "yaml-":
				yamlText.WriteString(line + "\n")
				continue
			case fence != "":
				command = heraldRun.MatchString(line) || command
				if !command {
					continue
				}
				command = strings.HasSuffix(strings.TrimSpace(line), `\`)
			default:
				for _, m := range keyInCode.FindAllStringSubmatch(line, -1) {
					if !keys[m[1]] {
						t.Errorf("%s: %q is not a key of herald's config file", where, m[1])
					}
				}
			}
			for _, m := range flagName.FindAllStringSubmatch(line, -1) {
				if !flags[m[1]] {
					t.Errorf("%s: --%s is not a flag of herald serve or herald token", where, m[1])
				}
			}
		}
	}
}

// TestSecurityDocNamesRealTests: every test of this package that
// docs/security.md names exists, so that its tables of promises and
// attacks do not point at a renamed or deleted test. In the section
// "Promises of the binary" tests are named bare (`TestServeOrigins`),
// elsewhere with the package (`cli.TestServeOrigins`).
func TestSecurityDocNamesRealTests(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{}
	testFunc := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
			tests[m[1]] = true
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "\n## Promises of the binary\n")
	end := strings.Index(text, "\n## Attacks tried\n")
	if start < 0 || end < start {
		t.Fatal(`docs/security.md has no section "Promises of the binary" before "Attacks tried"`)
	}
	named := regexp.MustCompile("`(Test\\w+)`").FindAllStringSubmatch(text[start:end], -1)
	if len(named) < 40 {
		t.Errorf("the promises name only %d tests", len(named))
	}
	named = append(named, regexp.MustCompile(`\bcli\.(Test\w+)`).FindAllStringSubmatch(text, -1)...)
	for _, m := range named {
		if !tests[m[1]] {
			t.Errorf("docs/security.md names %s, which is no test of internal/cli", m[1])
		}
	}
}
