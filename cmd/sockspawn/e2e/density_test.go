//go:build linux

package e2e

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// densityMachines is issue 13's figure, three times what root's default
// budget of 128 inotify instances holds (about 16): with -U each machine
// has its own.
const densityMachines = 50

// TestDensityDefaultLimit boots densityMachines machines with -U at once
// on the default fs.inotify.max_user_instances of 128 (set for the test,
// the value found restored after) and checks that all become READY and
// all stop with status 0 after SIGTERM. The deadlines are generous; the
// times are logged, not judged (make bench -measure density measures).
func TestDensityDefaultLimit(t *testing.T) {
	needSystemd(t)
	const limitPath = "/proc/sys/fs/inotify/max_user_instances"
	old, err := os.ReadFile(limitPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(limitPath, []byte("128\n"), 0o644); err != nil {
		t.Fatalf("set %s to 128: %v", limitPath, err)
	}
	// Registered before the machines', so it runs after they are stopped.
	t.Cleanup(func() {
		if err := os.WriteFile(limitPath, old, 0o644); err != nil {
			t.Errorf("restore %s to %s: %v", limitPath, strings.TrimSpace(string(old)), err)
		}
	})

	t0 := time.Now()
	args := append(volatileHost(), "-b", "-U", "--console=passive", "--", "systemd.firstboot=off")
	ms := make([]*machine, densityMachines)
	for i := range ms {
		ms[i] = startMachine(t, runSpec{Args: args, Notify: true})
	}
	deadline := t0.Add(5 * bootTimeout)
	ready := 0
	var last time.Duration
	for _, m := range ms {
		if _, _, err := m.Notify.Wait("READY=1", time.Until(deadline), m.exited); err != nil {
			t.Errorf("machine %s: no READY=1: %v", m.Name, err)
			continue
		}
		ready++
		last = time.Since(t0)
	}
	t.Logf("%d of %d machines READY; the last %.1f s after the first start (limit 128, was %s)", ready, densityMachines, last.Seconds(), strings.TrimSpace(string(old)))
	if ready < densityMachines {
		t.FailNow()
	}
	for _, m := range ms {
		m.Leader() // pins the pid namespace for the leftover check
	}

	s0 := time.Now()
	for _, m := range ms {
		m.Signal(syscall.SIGTERM)
	}
	statuses := map[int]int{}
	for _, m := range ms {
		statuses[m.Wait(shutdownTimeout)]++
	}
	t.Logf("all stopped %.1f s after SIGTERM; exit statuses %v; %.1f s in all", time.Since(s0).Seconds(), statuses, time.Since(t0).Seconds())
	if statuses[0] != densityMachines {
		var bad []string
		for _, m := range ms {
			if s := m.exitStatus(); s != 0 {
				bad = append(bad, m.Name+": "+strconv.Itoa(s))
			}
		}
		t.Errorf("not every machine stopped with status 0: %s", strings.Join(bad, ", "))
	}
}
