package cli

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/heraldrt/herald"
)

// Namespace is the channel settings of one namespace in the config file
// (namespaces: {chat: {...}}). Each key is also a top-level setting, whose
// meaning and validation it shares (see settingWithKey); unlike the
// top-level ones, a key left out means its zero value, except recover
// (true) and the access keys (the top-level setting).
type Namespace struct {
	HistorySize int           `yaml:"history_size"`
	HistoryTTL  time.Duration `yaml:"history_ttl"`
	Recover     *bool         `yaml:"recover"` // nil: true
	MaxRecover  int           `yaml:"max_recover"`
	Presence    bool          `yaml:"presence"`
	JoinLeave   bool          `yaml:"join_leave"`
	// Access per action (anyone, user, token, none); empty takes the
	// top-level setting.
	SubscribeAccess string `yaml:"subscribe_access"`
	PublishAccess   string `yaml:"publish_access"`
	PresenceAccess  string `yaml:"presence_access"`
	HistoryAccess   string `yaml:"history_access"`
}

// options returns the node's options of the namespace. An access left
// empty takes top's, the top-level permissions.
func (ns Namespace) options(top herald.Permissions) herald.ChannelOptions {
	return herald.ChannelOptions{
		HistorySize: ns.HistorySize,
		HistoryTTL:  ns.HistoryTTL,
		NoRecover:   ns.Recover != nil && !*ns.Recover,
		MaxRecover:  ns.MaxRecover,
		Presence:    ns.Presence,
		JoinLeave:   ns.JoinLeave,
		Permissions: herald.Permissions{
			Subscribe: accessOr(ns.SubscribeAccess, top.Subscribe),
			Publish:   accessOr(ns.PublishAccess, top.Publish),
			Presence:  accessOr(ns.PresenceAccess, top.Presence),
			History:   accessOr(ns.HistoryAccess, top.History),
		},
	}
}

// check checks each key of the namespace called name as the top-level
// setting of the same key would be checked (an access level, a size that
// is not negative), and names the first bad one.
func (ns Namespace) check(name string) error {
	v := reflect.ValueOf(ns)
	for i := range v.NumField() {
		key := v.Type().Field(i).Tag.Get("yaml")
		s, ok := settingWithKey(key)
		if !ok {
			panic(fmt.Sprintf("cli: namespace key %s is not a setting", key))
		}
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		var scratch Config
		reflect.ValueOf(s.field(&scratch)).Elem().Set(f)
		if err := s.check(&scratch); err != nil {
			return fmt.Errorf("namespaces: %s: %s %s: %w", name, key, s.display(s.String(&scratch)), err)
		}
	}
	return nil
}

// namespaceKeys returns the keys a namespace takes, in order.
func namespaceKeys() []string {
	t := reflect.TypeFor[Namespace]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("yaml")
	}
	return keys
}

// checkNamespaces checks every namespace of c, in name order.
func (c *Config) checkNamespaces() error {
	names := make([]string, 0, len(c.Namespaces))
	for name := range c.Namespaces {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := c.Namespaces[name].check(name); err != nil {
			return err
		}
	}
	return nil
}
