package main

import (
	"fmt"
	"strings"

	"github.com/sockspawn/sockspawn/units"
)

// option is one command-line option of `sockspawn run` and `boot`. The
// same table renders --help, the man page and README's table.
type option = units.Option

// options returns the table of `sockspawn run` options, in help order:
// those of units.Options, each with its key of NAME.conf, and the two that
// set nothing.
func options() []option {
	var opts []option
	for _, o := range units.Options() {
		if o.Flag != "" { // not Parameters=: the positional arguments
			opts = append(opts, o)
		}
	}
	return append(opts,
		option{Flag: "help", Short: 'h', Section: "Output", Help: "Show this help and exit."},
		option{Flag: "version", Section: "Output", Help: "Show the version and exit."})
}

// parsedArgs is the result of parsing a `sockspawn run` command line.
type parsedArgs struct {
	Config  units.Config
	Set     map[string]bool // the units.Config fields the command line set
	Help    bool
	Version bool
}

// parseRunArgs parses options the way systemd-nspawn does (getopt with a
// leading '+'): options first, the first non-option argument or "--" ends
// them, and everything after is positional.
func parseRunArgs(args []string) (parsedArgs, error) {
	opts := options()
	byLong := map[string]*option{}
	byShort := map[byte]*option{}
	for i := range opts {
		byLong[opts[i].Flag] = &opts[i]
		if opts[i].Short != 0 {
			byShort[opts[i].Short] = &opts[i]
		}
	}
	pa := parsedArgs{Set: map[string]bool{}}
	apply := func(o *option, val, shown string) error {
		switch o.Flag {
		case "help":
			pa.Help = true
			return nil
		case "version":
			pa.Version = true
			return nil
		}
		pa.Set[o.Field] = true
		return o.SetFlag(&pa.Config, shown, val)
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			o := byLong[name]
			if o == nil {
				return pa, fmt.Errorf("unknown option --%s (see sockspawn run --help)", name)
			}
			switch o.Arg {
			case units.NoArg:
				if hasVal {
					return pa, fmt.Errorf("option --%s takes no value", name)
				}
			case units.RequiredArg:
				if !hasVal {
					if i+1 >= len(args) {
						return pa, fmt.Errorf("option --%s needs a value (%s)", name, o.Meta)
					}
					i++
					val = args[i]
				}
			}
			if err := apply(o, val, "--"+name); err != nil {
				return pa, err
			}
			continue
		}
		// One or more short options: -bq, -D DIR, -DDIR.
		for j := 1; j < len(a); j++ {
			o := byShort[a[j]]
			if o == nil {
				return pa, fmt.Errorf("unknown option -%c (see sockspawn run --help)", a[j])
			}
			if o.Arg != units.RequiredArg {
				// A short option never takes an optional value (-U).
				if err := apply(o, "", "-"+string(a[j])); err != nil {
					return pa, err
				}
				continue
			}
			val := a[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					return pa, fmt.Errorf("option -%c needs a value (%s)", a[j], o.Meta)
				}
				i++
				val = args[i]
			}
			if err := apply(o, val, "-"+string(a[j])); err != nil {
				return pa, err
			}
			break
		}
	}
	pa.Config.Args = append([]string(nil), args[i:]...)
	if len(pa.Config.Args) > 0 {
		pa.Set["Args"] = true
	}
	return pa, nil
}
