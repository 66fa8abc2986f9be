package cli

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// setting describes one serve setting (see settings): its flag,
// environment variable and YAML key, which all derive from name; its help
// text; its default; and how it reaches the node.
type setting struct {
	name    string               // flag name, "ping-interval"
	arg     string               // placeholder in help, "DURATION"
	usage   string               // one line for help and docs/configuration.md
	def     string               // default, spelled as a flag value ("25s"); "" for the field's zero value
	defText string               // default in words, when it is decided at run time ("host name with a random suffix")
	field   func(c *Config) any  // pointer to the field: *string, *stringList, *bool, *int or *time.Duration
	valid   func(v string) error // extra check of a value, spelled as a flag value
	// node sets the setting's part of herald.Config; nil for the settings
	// the binary itself uses (addresses, TLS, logs, tokens, the API).
	node   func(c *Config, n *herald.Config)
	noYAML bool // not a key of the config file
	secret bool // never shown: errors say "(hidden)"
	list   bool // a repeated flag adds to the list
}

// env returns the setting's environment variable, HERALD_PING_INTERVAL.
func (s setting) env() string {
	return "HERALD_" + strings.ToUpper(strings.ReplaceAll(s.name, "-", "_"))
}

// key returns the setting's YAML key, ping_interval, or "" for none.
func (s setting) key() string {
	if s.noYAML {
		return ""
	}
	return strings.ReplaceAll(s.name, "-", "_")
}

// settingNamed returns the setting whose flag is name.
func settingNamed(name string) (setting, bool) {
	for _, s := range settings {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}

// settingWithKey returns the setting whose YAML key is key.
func settingWithKey(key string) (setting, bool) {
	for _, s := range settings {
		if s.key() == key && key != "" {
			return s, true
		}
	}
	return setting{}, false
}

// set parses v into the setting's field of c and checks it.
func (s setting) set(c *Config, v string) error {
	switch p := s.field(c).(type) {
	case *string:
		*p = v
	case *stringList:
		*p = stringList(v)
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("want a whole number")
		}
		*p = n
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("want a duration with a unit, like 25s, 500ms or 1m30s")
		}
		*p = d
	default:
		panic(fmt.Sprintf("cli: setting %s has a field of unsupported type %T", s.name, p))
	}
	return s.check(c)
}

// check reports whether the setting's field of c holds a valid value.
func (s setting) check(c *Config) error {
	switch p := s.field(c).(type) {
	case *string:
		if s.valid != nil {
			return s.valid(*p)
		}
	case *stringList:
		if s.valid != nil {
			return s.valid(string(*p))
		}
	case *int:
		if s.valid != nil {
			return s.valid(strconv.Itoa(*p))
		}
		if *p < 0 {
			return errors.New("must not be negative")
		}
	case *time.Duration:
		if *p < 0 {
			return errors.New("must not be negative")
		}
	}
	return nil
}

// String returns the setting's value in c as a flag or variable would
// spell it.
func (s setting) String(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *stringList:
		return string(*p)
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *time.Duration:
		return p.String()
	}
	return ""
}

// display returns v as errors may show it: secrets are hidden.
func (s setting) display(v string) string {
	if s.secret && v != "" {
		return "(hidden)"
	}
	return strconv.Quote(v)
}

// isBool reports whether the setting is a switch: a flag without a value.
func (s setting) isBool() bool {
	_, ok := s.field(&Config{}).(*bool)
	return ok
}

// defaultText returns the default as help and the docs show it, or ""
// for none worth showing (a switch that is off, an empty value).
func (s setting) defaultText() string {
	if s.defText != "" {
		return s.defText
	}
	def := Defaults()
	v := s.String(&def)
	if s.isBool() && v == "false" {
		return ""
	}
	return v
}

// validAddr accepts host:port.
func validAddr(v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return errors.New("want host:port, like 127.0.0.1:8080")
	}
	return nil
}

// validCompressionLevel accepts the flate levels 1 to 9.
func validCompressionLevel(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 9 {
		return errors.New("want 1 (fastest) to 9 (smallest)")
	}
	return nil
}

// oneOf accepts the listed values and the empty string (the default).
func oneOf(values ...string) func(string) error {
	return func(v string) error {
		if v == "" || slices.Contains(values, v) {
			return nil
		}
		last := len(values) - 1
		return fmt.Errorf("want %s or %s", strings.Join(values[:last], ", "), values[last])
	}
}

// validAccess accepts the access levels of herald.Access.
var validAccess = oneOf("anyone", "user", "token", "none")
