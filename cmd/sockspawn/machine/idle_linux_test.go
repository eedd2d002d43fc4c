package machine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/units"
)

func TestCheckIdle(t *testing.T) {
	noCgroup2 := func() error { return errors.New("no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified") }
	ok := func() error { return nil }
	for _, c := range []struct {
		action    string
		sockets   int
		canFreeze func() error
		want      []string // in the error; nil for none
	}{
		{"", 0, noCgroup2, nil},
		{units.IdleActionIgnore, 0, noCgroup2, nil},
		{units.IdleActionFreeze, 1, ok, nil},
		{units.IdleActionPoweroff, 2, noCgroup2, nil}, // poweroff does without the freezer
		{units.IdleActionFreeze, 0, ok, []string{"idle action freeze", "no sockets to watch", "--listen"}},
		{units.IdleActionPoweroff, 0, ok, []string{"idle action poweroff", "no sockets to watch"}},
		{units.IdleActionFreeze, 1, noCgroup2, []string{"idle action freeze", "no cgroup2"}},
	} {
		err := checkIdle(units.Config{IdleAction: c.action}, c.sockets, c.canFreeze)
		switch {
		case c.want == nil && err != nil:
			t.Errorf("%q with %d sockets: %v", c.action, c.sockets, err)
		case c.want != nil && err == nil:
			t.Errorf("%q with %d sockets: no error", c.action, c.sockets)
		case err != nil:
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q with %d sockets: %q does not say %q", c.action, c.sockets, err, w)
				}
			}
		}
	}
}

func TestIdleInitArgs(t *testing.T) {
	init := "/usr/lib/systemd/systemd"
	for _, c := range []struct {
		cfg  units.Config
		argv []string
		want []string
	}{
		{units.Config{Boot: true, IdleAction: "freeze"}, []string{init}, []string{init, noServiceWatchdogs}},
		{units.Config{Boot: true, IdleAction: "poweroff"}, []string{init, "quiet"}, []string{init, "quiet", noServiceWatchdogs}},
		{units.Config{Boot: true, IdleAction: "freeze"}, []string{init, "systemd.service_watchdogs=1"}, []string{init, "systemd.service_watchdogs=1"}},
		{units.Config{Boot: true}, []string{init}, []string{init}},
		{units.Config{Boot: true, IdleAction: "ignore"}, []string{init}, []string{init}},
		{units.Config{IdleAction: "freeze"}, []string{"/bin/sh"}, []string{"/bin/sh"}},
	} {
		got := idleInitArgs(c.cfg, c.argv)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%+v %q: got %q, want %q", c.cfg, c.argv, got, c.want)
		}
	}
}

// IdleActionSec=infinity: never idle, so no idle action at all, and none
// of what one needs (sockets to watch, the freezer, the init's argument).
func TestIdleNever(t *testing.T) {
	for _, tc := range []struct {
		action string
		sec    time.Duration
		want   activation.IdleAction
	}{
		{units.IdleActionFreeze, units.IdleNever, activation.IdleIgnore},
		{units.IdleActionPoweroff, units.IdleNever, activation.IdleIgnore},
		{units.IdleActionFreeze, time.Minute, activation.IdleFreeze},
		{units.IdleActionPoweroff, 0, activation.IdlePoweroff},
		{"", units.IdleNever, activation.IdleIgnore},
	} {
		c := units.Config{IdleAction: tc.action, IdleActionSec: tc.sec, Boot: true}
		if got := idleAction(c); got != tc.want {
			t.Errorf("%q for %v: %v, want %v", tc.action, tc.sec, got, tc.want)
		}
		if tc.want != activation.IdleIgnore {
			continue
		}
		if err := checkIdle(c, 0, func() error { return errors.New("no freezer") }); err != nil {
			t.Errorf("%q for %v: %v", tc.action, tc.sec, err)
		}
		if argv := idleInitArgs(c, []string{"/sbin/init"}); len(argv) != 1 {
			t.Errorf("%q for %v: init arguments %q", tc.action, tc.sec, argv)
		}
	}
}
