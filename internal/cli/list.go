package cli

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// stringList is a comma-separated list setting (--origins a,b). It stays a
// string so that Config remains comparable; in the config file it may also
// be a YAML sequence.
type stringList string

// items returns the list's entries, trimmed, without empty ones.
func (l stringList) items() []string {
	var out []string
	for item := range strings.SplitSeq(string(l), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// UnmarshalYAML accepts a string ("a, b") or a sequence of strings.
func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = stringList(n.Value)
		return nil
	case yaml.SequenceNode:
		items := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || strings.Contains(item.Value, ",") {
				return fmt.Errorf("line %d: want a list of strings without commas", item.Line)
			}
			items = append(items, item.Value)
		}
		*l = stringList(strings.Join(items, ","))
		return nil
	}
	return fmt.Errorf(`line %d: want a string ("a, b") or a list of strings`, n.Line)
}
