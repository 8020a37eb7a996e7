// Package cli is the command line every Tributary binary shares. A setting
// has one name everywhere: the flag (-clickhouse-addr), the variable
// (TRIBUTARY_CLICKHOUSE_ADDR: TRIBUTARY_ and the flag's name in capitals,
// dashes as underscores) and the key of a YAML settings file
// (clickhouse-addr), read in that order of precedence — command line,
// then environment, then file — so a deployment keeps its settings in a
// file and a session overrides one of them without editing it.
//
// The layer is github.com/peterbourgon/ff/v3: it keeps the standard
// library's flag.FlagSet, which every binary and its tests already use,
// and adds exactly the variables and the file with that precedence, with
// no code generation and no dependency beyond the YAML parser. Kong and
// cobra would each have meant rewriting every binary's settings as their
// own types for the same result.
//
// Exit codes are shared too: 0 success or help, 1 a runtime failure, 2
// bad usage or invalid settings.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/peterbourgon/ff/v3"
	"go.yaml.in/yaml/v3"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// EnvPrefix starts every variable a binary reads.
const EnvPrefix = "TRIBUTARY"

// ConfigFlag names the settings file's flag (and TRIBUTARY_CONFIG).
const ConfigFlag = "config"

// Validate is the subcommand that checks settings without connecting.
const Validate = "validate"

// EnvName is the variable that sets flag name.
func EnvName(name string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// Parse reads args into fs, then each flag not given on the command line
// from its variable, then from the settings file named by -config (or
// TRIBUTARY_CONFIG). It adds the -config flag to fs. A first argument
// "validate" asks only to check the settings (validate is then true), and
// a second one, if not a flag, names the file.
//
// Flags already set on fs count as given: a binary whose flags may follow
// positional arguments parses those itself and calls Parse with nil args.
func Parse(fs *flag.FlagSet, args []string) (validate bool, err error) {
	AddConfigFlag(fs)
	if len(args) > 0 && args[0] == Validate {
		validate = true
		args = args[1:]
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			args = append([]string{"-" + ConfigFlag, args[0]}, args[1:]...)
		}
	}
	err = ff.Parse(fs, args,
		ff.WithEnvVarPrefix(EnvPrefix),
		ff.WithConfigFileFlag(ConfigFlag),
		ff.WithConfigFileParser(yamlParser(fs)),
	)
	if errors.Is(err, flag.ErrHelp) {
		return validate, flag.ErrHelp
	}
	if err != nil {
		// ff's wording names its own stages; ours names the setting.
		msg := strings.TrimPrefix(err.Error(), "error parsing commandline arguments: ")
		return validate, errors.New(strings.TrimPrefix(msg, "error parsing environment variables: "))
	}
	return validate, nil
}

// AddConfigFlag adds -config to fs unless it is there: Parse does, but a
// binary that parses its command line itself adds it first, for its help.
func AddConfigFlag(fs *flag.FlagSet) {
	if fs.Lookup(ConfigFlag) == nil {
		fs.String(ConfigFlag, "", "YAML file of settings, keys named as these flags; flags and TRIBUTARY_* variables override it (env TRIBUTARY_CONFIG)")
	}
}

// yamlParser reads a flat YAML mapping of flag names (or their variables'
// names) to values. A list is joined with commas, as comma-separated flags
// take it. Errors give the file's line and the key.
func yamlParser(fs *flag.FlagSet) ff.ConfigFileParser {
	return func(r io.Reader, set func(name, value string) error) error {
		var doc yaml.Node
		if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return nil // an empty file sets nothing
			}
			return fmt.Errorf("settings file: %w", err)
		}
		root := &doc
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		if root.Kind != yaml.MappingNode {
			return fmt.Errorf("settings file line %d: want a mapping of settings (key: value), got a %s", root.Line, kind(root))
		}
		var errs []error
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], root.Content[i+1]
			if err := setting(fs, set, k, v); err != nil {
				errs = append(errs, fmt.Errorf("settings file line %d: %s: %w", k.Line, k.Value, err))
			}
		}
		return errors.Join(errs...)
	}
}

func setting(fs *flag.FlagSet, set func(name, value string) error, k, v *yaml.Node) error {
	name := k.Value
	if v.Kind == yaml.MappingNode {
		return fmt.Errorf("a value or a list is expected, got a mapping (settings are flat: key: value)")
	}
	if fs.Lookup(name) == nil && !isEnvOf(fs, name) {
		return fmt.Errorf("no such setting%s (-h lists them)", suggest(fs, name))
	}
	var value string
	switch v.Kind {
	case yaml.ScalarNode:
		value = v.Value
	case yaml.SequenceNode:
		items := make([]string, 0, len(v.Content))
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return fmt.Errorf("a list of plain values is expected, got a %s at line %d", kind(it), it.Line)
			}
			items = append(items, it.Value)
		}
		value = strings.Join(items, ",")
	default:
		return fmt.Errorf("a value or a list is expected, got a %s (settings are flat: key: value)", kind(v))
	}
	if err := set(name, value); err != nil {
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("error setting flag %q from config file: ", name))
		return fmt.Errorf("%q is not valid: %s", value, msg)
	}
	return nil
}

func isEnvOf(fs *flag.FlagSet, name string) bool {
	found := false
	fs.VisitAll(func(f *flag.Flag) { found = found || EnvName(f.Name) == name })
	return found
}

// suggest names the flag closest to a misspelt key, if one is close.
func suggest(fs *flag.FlagSet, name string) string {
	best, dist := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		if d := distance(name, f.Name); d < dist {
			best, dist = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "value"
	}
	return "node"
}
