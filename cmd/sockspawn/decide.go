package main

import (
	"fmt"
	"path/filepath"

	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// decision is what `run` derives from a Config before touching anything.
type decision struct {
	Image       string
	Machine     string
	Hostname    string
	UUID        string
	Console     units.Console
	NotifyReady bool
	Argv        []string
	// Tunnel is the host directory whose mounts reach the container's
	// /run/host/incoming (`machinectl bind`), once the runtime directory
	// exists; empty with -U.
	Tunnel string
}

// decide resolves defaults and checks a Config. It reads nothing but what
// findInit reads, so bad input fails before anything is created.
func decide(c units.Config, stdinTTY bool, findInit func(image string, usrOnly bool) (string, error)) (decision, error) {
	var d decision
	if c.Directory == "" {
		return d, fmt.Errorf("no image directory: use -D DIR (for this machine's own OS: -D / --volatile=yes -M NAME)")
	}
	img, err := filepath.Abs(c.Directory)
	if err != nil {
		return d, fmt.Errorf("image directory %q: %w", c.Directory, err)
	}
	d.Image = img
	d.Machine = c.Machine
	if d.Machine == "" {
		if img == "/" {
			return d, fmt.Errorf("-D / needs a machine name: add -M NAME")
		}
		d.Machine = filepath.Base(img)
	}
	if err := units.ValidMachineName(d.Machine); err != nil {
		if c.Machine == "" {
			return d, fmt.Errorf("%w (derived from the image directory; set one with -M NAME)", err)
		}
		return d, err
	}
	if err := units.CheckNetwork(c); err != nil {
		return d, err
	}
	d.Hostname = c.Hostname
	if d.Hostname == "" {
		d.Hostname = d.Machine
	}
	// c.UUID was checked and normalized when parsed (units.ParseUUID).
	d.UUID = c.UUID
	if d.UUID == "" {
		d.UUID = payload.StableUUID(d.Machine)
	}
	d.Console = c.Console
	if d.Console == "" {
		d.Console = units.ConsoleReadOnly
		if stdinTTY {
			d.Console = units.ConsoleInteractive
		}
	}
	d.NotifyReady = c.Boot
	if c.NotifyReady != nil {
		d.NotifyReady = *c.NotifyReady
	}
	switch {
	case c.Boot && c.AsPid2:
		return d, fmt.Errorf("--boot and --as-pid2 cannot be combined: with -b the image's init is PID 1")
	case c.Boot:
		init, err := findInit(img, c.Volatile == units.VolatileYes)
		if err != nil {
			return d, err
		}
		d.Argv = append([]string{init}, c.Args...)
	case len(c.Args) > 0:
		d.Argv = c.Args
	default:
		d.Argv = []string{"/bin/sh"}
	}
	return d, nil
}
