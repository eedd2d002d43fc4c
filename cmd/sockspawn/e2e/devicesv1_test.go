//go:build linux

package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestDevicesV1: where the host has the cgroup v1 devices controller (a
// hybrid or v1 host), the container's cgroup there carries the same
// allow-list as its device program; a fresh mount of the hierarchy from
// inside shows only the container's own cgroup.
func TestDevicesV1(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/sys/fs/cgroup/devices/devices.list"); err != nil {
		t.Skip("the host has no cgroup v1 devices hierarchy")
	}
	t.Parallel()
	m := startMachine(t, runSpec{Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe", "--",
		"/bin/sh", "-c", "mkdir /tmp/d && mount -t cgroup -o devices none /tmp/d && cat /tmp/d/devices.list && ls /tmp/d"}})
	if status := m.Wait(30 * time.Second); status != 0 {
		t.Fatalf("exit status %d; stderr: %s", status, m.Stderr.String())
	}
	out := m.Stdout.String()
	for _, want := range []string{"c 1:3 rwm", "c 136:* rwm", "c 10:200 rwm"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("devices.list inside lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"a *:* rwm", "c 10:232", "release_agent"} {
		if strings.Contains(out, bad) {
			t.Errorf("inside, the v1 devices hierarchy shows %q:\n%s", bad, out)
		}
	}
}
