//go:build linux

package e2e

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/activation"
)

const maxUserInstances = "/proc/sys/fs/inotify/max_user_instances"

// TestInotifyBudgetCheck: a booted machine sharing root's inotify budget
// gets a warning naming the sysctl, its value and what to raise it to when
// the budget cannot hold a booted systemd, and none when it can. The limit
// is lowered to what root holds for the moment sockspawn takes to check,
// then put back as found (parallel tests of others share it).
func TestInotifyBudgetCheck(t *testing.T) {
	needSystemd(t)
	args := append(volatileHost(), "-b", "--console=passive", "--", "systemd.firstboot=off")
	stopEarly := func(m *machine) {
		m.Leader()
		m.Signal(syscall.SIGTERM)
		if st := m.Wait(shutdownTimeout); st != 0 {
			t.Errorf("exit status %d after a stop, want 0", st)
		}
	}

	t.Run("room", func(t *testing.T) {
		b, err := activation.RootInotifyBudget()
		if err != nil {
			t.Fatal(err)
		}
		if b.Short(4 * activation.SystemdInotifyInstances) {
			missing(t, "room for a few booted containers in "+activation.InotifySysctl+" (raise it for the tests)")
		}
		m := startMachine(t, runSpec{Args: args, Notify: true})
		stopEarly(m)
		if s := m.Stderr.String(); strings.Contains(s, "inotify") {
			t.Errorf("warning with %d of %d instances free:\n%s", b.Free(), b.Limit, s)
		}
	})

	t.Run("short", func(t *testing.T) {
		low, restore := lowerInotifyLimit(t)
		m := startMachine(t, runSpec{Args: args, Notify: true})
		m.Leader() // the check comes before the container is made
		restore()
		stopEarly(m)
		s := m.Stderr.String()
		for _, want := range []string{
			"sockspawn: warning: root's inotify instances are nearly used up",
			activation.InotifySysctl + "=" + strconv.Itoa(low) + ",",
			"sysctl -w " + activation.InotifySysctl + "=",
			"READY=1",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("the warning lacks %q:\n%s", want, s)
			}
		}
		if i, l := m.Notify.Index("STATUS=" + activation.InotifySysctl); i < 0 {
			t.Errorf("no STATUS= about %s for the host manager:\n%s", activation.InotifySysctl, m.Notify)
		} else {
			t.Logf("host manager told: %s", l)
		}
	})

	// A machine with a private user range does not share root's budget
	// (its user namespace is owned by its base UID): no warning, however
	// little root has left.
	t.Run("private-range", func(t *testing.T) {
		_, restore := lowerInotifyLimit(t)
		m := startMachine(t, runSpec{Args: append(volatileHost(), "-b", "-U", "--console=passive", "--", "systemd.firstboot=off"), Notify: true})
		m.Leader()
		restore()
		stopEarly(m)
		if s := m.Stderr.String(); strings.Contains(s, "inotify") {
			t.Errorf("a warning about root's budget for a machine with a private user range:\n%s", s)
		}
	})
}

// lowerInotifyLimit sets fs.inotify.max_user_instances to one more than
// root holds now, far less than a booted systemd needs whatever peers
// free meanwhile. restore puts back the value found, once; it is also a
// cleanup of t, for a test that ends early. Tests of others share the
// limit: call restore as soon as the moment it is needed for is over.
func lowerInotifyLimit(t *testing.T) (low int, restore func()) {
	t.Helper()
	found, err := os.ReadFile(maxUserInstances)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	lowered := time.Now()
	restore = func() {
		once.Do(func() {
			if err := os.WriteFile(maxUserInstances, found, 0o644); err != nil {
				t.Errorf("restore %s to %s: %v", maxUserInstances, strings.TrimSpace(string(found)), err)
			}
			t.Logf("%s was %d for %v", activation.InotifySysctl, low, time.Since(lowered).Round(time.Millisecond))
		})
	}
	t.Cleanup(restore)
	b, err := activation.RootInotifyBudget()
	if err != nil {
		t.Fatal(err)
	}
	low = b.Used + 1
	if err := os.WriteFile(maxUserInstances, []byte(strconv.Itoa(low)), 0o644); err != nil {
		t.Fatalf("lower %s: %v", maxUserInstances, err)
	}
	lowered = time.Now()
	return low, restore
}
