package machine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/cmd/sockspawn/idlewatch"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// idleSetup is what the supervisor needs to watch a container for
// idleness; the zero value watches nothing.
type idleSetup struct {
	action activation.IdleAction
	period time.Duration
	files  []*os.File // the supervisor's copies of the listening sockets
	cgroup string     // the payload's cgroup2 directory, when it can be frozen
}

// idleAction converts IdleAction= to the state machine's action. With
// IdleActionSec=infinity the machine is never idle: no action, as with
// ignore.
func idleAction(c units.Config) activation.IdleAction {
	if c.IdleActionSec == units.IdleNever {
		return activation.IdleIgnore
	}
	switch c.IdleAction {
	case units.IdleActionFreeze:
		return activation.IdleFreeze
	case units.IdleActionPoweroff:
		return activation.IdlePoweroff
	}
	return activation.IdleIgnore
}

// checkIdle refuses an idle action that cannot be carried out, before
// anything is made: one with no sockets to watch, and freeze on a host
// without cgroup2's freezer. canFreeze is payload.CanFreeze.
func checkIdle(c units.Config, sockets int, canFreeze func() error) error {
	a := idleAction(c)
	if a == activation.IdleIgnore {
		return nil
	}
	if sockets == 0 {
		return fmt.Errorf("idle action %s: no sockets to watch; pass them with a socket unit (container@.socket) or --listen", a)
	}
	if a == activation.IdleFreeze {
		if err := canFreeze(); err != nil {
			return fmt.Errorf("idle action freeze: %w", err)
		}
	}
	return nil
}

// noServiceWatchdogs is the argument that turns off systemd's service
// watchdogs (WatchdogSec=) in a booted container that may be frozen.
const noServiceWatchdogs = "systemd.service_watchdogs=0"

// idleInitArgs adds noServiceWatchdogs to a booted init's arguments when
// the container may be frozen: a freeze stops the services' pings but not
// CLOCK_MONOTONIC, and after a freeze longer than a WatchdogSec= (3min
// for journald and logind) systemd would kill that service on the thaw.
// An argument of the user's own that sets systemd.service_watchdogs wins.
func idleInitArgs(c units.Config, argv []string) []string {
	if !c.Boot || idleAction(c) == activation.IdleIgnore || len(argv) == 0 {
		return argv
	}
	for _, a := range argv[1:] {
		if strings.HasPrefix(a, "systemd.service_watchdogs") {
			return argv
		}
	}
	return append(append([]string(nil), argv...), noServiceWatchdogs)
}

// newIdleSetup is the watch for one boot; cg is the container's cgroup,
// once made.
func newIdleSetup(c units.Config, files []*os.File, cg *payload.Cgroup) idleSetup {
	s := idleSetup{action: idleAction(c), period: c.IdleActionSec, files: files}
	if s.action == activation.IdleIgnore {
		return idleSetup{}
	}
	if s.period <= 0 {
		s.period = units.DefaultIdleActionSec
	}
	if cg != nil && payload.CanFreeze() == nil {
		s.cgroup = filepath.Join(cg.Mount, cg.Payload)
	}
	return s
}

// start starts the watcher of a running container, or returns nil when
// there is nothing to watch. poweroff is the supervisor's clean shutdown.
func (s idleSetup) start(machine string, init int, quiet bool, poweroff func(quit <-chan struct{})) *idlewatch.Watcher {
	if s.action == activation.IdleIgnore {
		return nil
	}
	logf := func(msg string) {
		if !quiet {
			fmt.Fprintf(os.Stderr, "sockspawn: %s: %s\n", machine, msg)
		}
	}
	w, err := idlewatch.Start(idlewatch.Config{
		Action:   s.action,
		Period:   s.period,
		Sockets:  s.files,
		Cgroup:   s.cgroup,
		Init:     init,
		Status:   func(st string) { notifyHost("STATUS=" + st) },
		Log:      logf,
		Poweroff: poweroff,
	})
	if err != nil {
		// The container runs on, as it would without an idle action.
		fmt.Fprintf(os.Stderr, "sockspawn: %s: idle action %s: %v; the machine stays up\n", machine, s.action, err)
		return nil
	}
	return w
}
