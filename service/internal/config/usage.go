package config

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// Usage writes every flag with its environment variable, default and
// meaning, as --help shows them.
func Usage(w io.Writer) {
	c := Default()
	var failed error
	fs := newFlagSet(&c, &failed)
	fmt.Fprint(w, "Usage: wsgateway [flags]\n\n"+
		"Every flag can also be set by the environment variable shown; the flag wins.\n"+
		"Durations use Go syntax (25s, 10m); lists are comma-separated.\n\n")
	for _, s := range specs(&c) {
		f := fs.Lookup(s.name)
		kind, usage := flag.UnquoteUsage(f)
		if kind == "value" { // no `name` in the usage, and the wrapper hides the type
			kind = kindOf(f.Value)
		}
		if kind != "" {
			kind = " " + kind
		}
		fmt.Fprintf(w, "  --%s%s  (env %s)\n    \t%s%s\n", f.Name, kind, EnvName(f.Name), usage, defaultText(f))
	}
}

// kindOf names the type of value a flag takes, as flag.PrintDefaults does.
func kindOf(v flag.Value) string {
	switch getValue(v).(type) {
	case int, int64:
		return "int"
	case float64:
		return "float"
	case time.Duration:
		return "duration"
	case string:
		return "string"
	}
	return "value"
}

// defaultText shows a flag's default the way flag.PrintDefaults does, and
// nothing for zero values.
func defaultText(f *flag.Flag) string {
	switch f.DefValue {
	case "", "0", "false":
		return ""
	}
	if _, ok := getValue(f.Value).(string); ok {
		return fmt.Sprintf(" (default %q)", f.DefValue)
	}
	return fmt.Sprintf(" (default %s)", f.DefValue)
}
