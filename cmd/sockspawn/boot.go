package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/sockspawn/sockspawn/cmd/sockspawn/machine"
	"github.com/sockspawn/sockspawn/units"
)

// cmdBoot is `sockspawn boot NAME [OPTIONS]`: run machine NAME from its
// configuration file, with the command line's options overriding it. This
// is what container@NAME.service runs.
func cmdBoot(args []string) int {
	l, code, ok := machineCommand("boot", args)
	if !ok {
		return code
	}
	c := l.Config
	if c.LinkJournal == "" {
		// As systemd-nspawn@.service: a persistent container's journal
		// shows on the host; a volatile one's is quietly not linked.
		c.LinkJournal = units.LinkJournalTryGuest
	}
	return runMachine(c, l.Sources)
}

// cmdCat is `sockspawn cat NAME [OPTIONS]`: print the effective
// configuration of machine NAME, each value with where it came from.
func cmdCat(args []string) int {
	l, code, ok := machineCommand("cat", args)
	if !ok {
		return code
	}
	fmt.Print(units.Describe(l.Config, l.Sources))
	for _, n := range l.Notices {
		fmt.Printf("# %s\n", n)
	}
	return 0
}

// cmdCheck is `sockspawn check NAME [OPTIONS]`: check machine NAME's name,
// configuration and image as `boot` would, without starting anything.
// container@.socket runs it before it binds any socket.
func cmdCheck(args []string) int {
	l, code, ok := machineCommand("check", args)
	if !ok {
		return code
	}
	report, err := machine.Check(l.Config, l.Sources, l.File, l.Nspawn)
	if err != nil {
		return errorf("%v", err)
	}
	fmt.Print(report)
	return 0
}

// machineCommand parses `CMD NAME [OPTIONS]` and loads machine NAME's
// configuration with the options laid over it. When ok is false the
// command is over (help shown, or an error reported) with status code.
// Notices of an untrusted .nspawn file are printed here, except for cat,
// which shows them in its output.
func machineCommand(cmd string, args []string) (l units.Loaded, code int, ok bool) {
	name, rest, code, done := machineArg(cmd, args)
	if done {
		return l, code, false
	}
	pa, err := parseRunArgs(rest)
	if err != nil {
		return l, errorf("%v", err), false
	}
	if pa.Help {
		writeHelp(os.Stdout)
		return l, 0, false
	}
	l, err = loadMachine(name, pa)
	if err != nil {
		return l, errorf("%v", err), false
	}
	if cmd != "cat" && !l.Config.Quiet {
		for _, n := range l.Notices {
			fmt.Fprintf(os.Stderr, "sockspawn: %s\n", n)
		}
	}
	return l, 0, true
}

// loadMachine reads machine name's configuration (its .nspawn file, then
// NAME.conf) and applies the command line over it.
func loadMachine(name string, pa parsedArgs) (units.Loaded, error) {
	if pa.Set["Machine"] && pa.Config.Machine != name {
		return units.Loaded{}, fmt.Errorf("-M %s contradicts the machine name %s", pa.Config.Machine, name)
	}
	l, err := units.LoadMachine(name, units.Lookup{SearchPath: units.SearchPath, NspawnPath: units.NspawnSearchPath, Flags: pa.Config, Set: pa.Set})
	if err != nil {
		return units.Loaded{}, err
	}
	c := l.Config
	if c.Directory == units.DefaultDirectory(name) {
		if _, err := os.Stat(c.Directory); errors.Is(err, fs.ErrNotExist) {
			// One line, as every error: what is missing, where sockspawn
			// looked, and the two ways out.
			return l, fmt.Errorf("machine %s not found: no %s%s in %s, and no image %s (make one with debootstrap, or put Directory=/ and Volatile=yes in /etc/sockspawn/%s%s to boot this machine's own OS)",
				name, name, units.ConfigSuffix, strings.Join(units.SearchPath, ", "), c.Directory, name, units.ConfigSuffix)
		}
	}
	return l, nil
}

// machineArg splits off and checks the NAME argument of a subcommand.
func machineArg(cmd string, args []string) (name string, rest []string, code int, done bool) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		writeHelp(os.Stdout)
		return "", nil, 0, true
	}
	if len(args) == 0 {
		return "", nil, errorf("%s: missing machine name (sockspawn %s NAME)", cmd, cmd), true
	}
	if err := units.ValidInstanceName(args[0]); err != nil {
		return "", nil, errorf("%s: %v", cmd, err), true
	}
	return args[0], args[1:], 0, false
}

// cmdNew is `sockspawn new NAME [--image DIR] [--listen ADDRESS]... [--force]`.
func cmdNew(args []string) int {
	name, rest, code, done := machineArg("new", args)
	if done {
		return code
	}
	var opts units.NewOptions
	force := false
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		val := func(flag string) (string, bool) {
			if v, ok := cutFlag(a, flag); ok {
				return v, true
			}
			if a == flag && i+1 < len(rest) {
				i++
				return rest[i], true
			}
			return "", false
		}
		if v, ok := val("--image"); ok {
			opts.Image = v
		} else if v, ok := val("--listen"); ok {
			opts.Listen = append(opts.Listen, v)
		} else if a == "--force" {
			force = true
		} else if o, v, ok := newSetting(val); ok {
			opts.Settings = append(opts.Settings, units.NewSetting{Flag: o.Flag, Value: v})
		} else {
			return errorf("new: unknown argument %q (sockspawn new NAME [--image DIR] [--listen ADDRESS]...%s [--force])", a, newFlagsUsage())
		}
	}
	written, err := units.NewMachine(name, opts, "", force)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return errorf("new: %v (use --force to overwrite)", err)
		}
		return errorf("new: %v", err)
	}
	for _, w := range written {
		fmt.Printf("wrote %s\n", w)
	}
	fmt.Print(units.NextSteps(name, len(opts.Listen) > 0))
	return 0
}

// newSetting returns the option of units.Options that `new` takes (New)
// and val finds, with its value.
func newSetting(val func(flag string) (string, bool)) (units.Option, string, bool) {
	for _, o := range units.Options() {
		if !o.New {
			continue
		}
		if v, ok := val("--" + o.Flag); ok {
			return o, v, true
		}
	}
	return units.Option{}, "", false
}

// newFlagsUsage lists the flags of units.Options that `new` takes, as
// " [--idle-action ACTION]...".
func newFlagsUsage() string {
	var b strings.Builder
	for _, o := range units.Options() {
		if o.New {
			fmt.Fprintf(&b, " [--%s %s]", o.Flag, o.Meta)
		}
	}
	return b.String()
}

func cutFlag(a, flag string) (string, bool) {
	if len(a) > len(flag) && a[:len(flag)] == flag && a[len(flag)] == '=' {
		return a[len(flag)+1:], true
	}
	return "", false
}
