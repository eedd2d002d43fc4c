package main

import (
	"errors"
	"strings"
	"testing"

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
