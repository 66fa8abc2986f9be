package cli

import (
	"flag"
	"fmt"
	"io"
)

// Validate checks every setting of c, then every namespace, naming the
// YAML key (or flag) of the first bad one.
func (c *Config) Validate() error {
	for _, s := range settings {
		if err := s.check(c); err != nil {
			name := s.key()
			if name == "" {
				name = "--" + s.name
			}
			return fmt.Errorf("%s %s: %w", name, s.display(s.String(c)), err)
		}
	}
	return c.checkNamespaces()
}

// Load resolves the serve settings: Defaults, then the config file (from
// --config or HERALD_CONFIG), then the environment (looked up with
// lookupEnv; an empty variable counts as unset), then args, the serve flags.
// It returns flag.ErrHelp when args ask for help.
func Load(args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	flags, err := parseFlags(args)
	if err != nil {
		return Config{}, err
	}
	return resolve(flags, lookupEnv)
}

// resolve layers Defaults, the config file, the environment and flags.
func resolve(flags []flagValue, lookupEnv func(string) (string, bool)) (Config, error) {
	c := Defaults()

	// The config file: its path comes from the flag or the environment.
	file := ""
	if v, ok := lookupEnv(settingsConfig.env()); ok && v != "" {
		file = v
	}
	for _, f := range flags {
		if f.s.name == settingsConfig.name {
			file = f.value
		}
	}
	if file != "" {
		if err := ReadFile(file, &c); err != nil {
			return Config{}, err
		}
		c.ConfigFile = file
	}

	for _, s := range settings {
		if s.name == settingsConfig.name {
			continue
		}
		v, ok := lookupEnv(s.env())
		if !ok || v == "" {
			continue
		}
		if err := s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("environment variable %s=%s: %w", s.env(), s.display(v), err)
		}
	}

	seen := map[string]bool{}
	for _, f := range flags {
		v := f.value
		if f.s.list && seen[f.s.name] {
			v = f.s.String(&c) + "," + v // a repeated list flag adds to the list
		}
		seen[f.s.name] = true
		if err := f.s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("flag --%s=%s: %w", f.s.name, f.s.display(f.value), err)
		}
	}
	return c, nil
}

// settingsConfig is --config, which resolve reads first.
var settingsConfig, _ = settingNamed("config")

// flagValue is one flag given on the command line, in order.
type flagValue struct {
	s     setting
	value string
}

// parseFlags parses the serve flags with the standard flag package, checking
// each value as it goes, and returns them in command-line order.
func parseFlags(args []string) ([]flagValue, error) {
	fs := newFlagSet("serve")
	got := addSettingFlags(fs, settings)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (serve takes only flags)", fs.Arg(0))
	}
	return *got, nil
}

// newFlagSet returns a silent FlagSet: Main prints errors and help itself.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// addSettingFlags defines a flag on fs for each of list and returns where
// the values given are recorded, in command-line order. A value is checked
// as it is parsed, except a secret's: the flag package would repeat it in
// its error, so Load checks it.
func addSettingFlags(fs *flag.FlagSet, list []setting) *[]flagValue {
	got := new([]flagValue)
	for _, s := range list {
		record := func(v string) error {
			if !s.secret {
				var scratch Config
				if err := s.set(&scratch, v); err != nil {
					return err
				}
			}
			*got = append(*got, flagValue{s, v})
			return nil
		}
		if s.isBool() {
			fs.BoolFunc(s.name, s.usage, record)
		} else {
			fs.Func(s.name, s.usage, record)
		}
	}
	return got
}
