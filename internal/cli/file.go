package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ReadFile decodes the YAML config file at path over c: keys present in the
// file replace c's values, absent keys leave them. An unknown key is an
// error that names it; so is a bad value.
func ReadFile(path string, c *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	if err := decodeYAML(f, c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// decodeYAML decodes one YAML document from r over c and validates the
// result; on any error c is left unchanged.
func decodeYAML(r io.Reader, c *Config) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	next := *c
	err := dec.Decode(&next)
	if errors.Is(err, io.EOF) {
		return nil // an empty file sets nothing
	}
	if err != nil {
		return yamlError(err)
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return errors.New("holds more than one YAML document; put every key in one")
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

// Patterns of the YAML decoder's messages that yamlError rewrites.
var (
	unknownField = regexp.MustCompile(`^(line \d+): field (.+) not found in type \S+$`)
	badDuration  = regexp.MustCompile(`^(line \d+): cannot unmarshal .* into time\.Duration$`)
	notMapping   = regexp.MustCompile(`^(line \d+): cannot unmarshal .* into cli\.Config$`)
)

// yamlError rewrites the decoder's messages about unknown keys, durations
// without a unit and files that are not a mapping into ones that say what to
// write instead.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		if g := unknownField.FindStringSubmatch(m); g != nil {
			m = fmt.Sprintf("%s: unknown key %q (known keys: %s)", g[1], g[2], strings.Join(yamlKeys(), ", "))
		} else if g := badDuration.FindStringSubmatch(m); g != nil {
			m = m + `: write a duration with a unit, like "25s" or "1m30s"`
		} else if g := notMapping.FindStringSubmatch(m); g != nil {
			m = g[1] + `: the file must hold keys with values, like "addr: 127.0.0.1:8080"`
		}
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}

// yamlKeys returns every key of the config file, in the settings order.
func yamlKeys() []string {
	var keys []string
	for _, s := range settings {
		if k := s.key(); k != "" {
			keys = append(keys, k)
		}
	}
	for _, k := range fileOnlyKeys {
		keys = append(keys, k.key)
	}
	return keys
}
