package machine

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sockspawn/sockspawn/internal/systemd"
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
	// Users is the private user range asked for (-U), if any.
	Users units.UserRange
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
	if img == "/" {
		if err := hostRootNeeds(c, ""); err != nil {
			return d, err
		}
	}
	d.Machine = c.Machine
	if d.Machine == "" {
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
	if c.PrivateUsers != "" {
		if d.Users, err = units.ParsePrivateUsers(c.PrivateUsers); err != nil {
			return d, fmt.Errorf("--private-users: %w", err)
		}
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
		init, err := findInit(img, c.Volatile == systemd.VolatileYes)
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

// hostRootNeeds says what -D / lacks, all of it at once. As with
// systemd-nspawn, this machine's own root is never used read-write: its
// /etc and /var would be the container's, and the host's services and the
// container's would write over each other. A machine name is needed
// because "/" has no base name to derive one from. origin is the
// configuration file (and line) Directory=/ came from, if it did.
func hostRootNeeds(c units.Config, origin string) error {
	what, yes, state := "-D /", "--volatile=yes", "--volatile=state"
	if origin != "" {
		what, yes, state = "Directory=/ ("+origin+")", "Volatile=yes", "Volatile=state"
	}
	var need []string
	if c.Volatile != systemd.VolatileYes && c.Volatile != systemd.VolatileState {
		need = append(need, yes+" (a fresh root with this machine's /usr, read-only) or "+state+" (the root read-only, a fresh /var)")
	}
	if c.Machine == "" {
		need = append(need, "-M NAME")
	}
	if len(need) == 0 {
		return nil
	}
	return fmt.Errorf("%s is this machine's own root, which a container never uses read-write: add %s", what, strings.Join(need, " and "))
}
