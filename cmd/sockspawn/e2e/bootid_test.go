//go:build linux

package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestBootID checks that each run of a container has a boot ID of its
// own, different from the host's, so that journals inside tell boots
// apart.
func TestBootID(t *testing.T) {
	needRoot(t)
	t.Parallel()
	host, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	name := newMachineName(t)
	var ids []string
	for i := 0; i < 2; i++ {
		m := startMachine(t, runSpec{Name: name, Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe", "--", "cat", "/proc/sys/kernel/random/boot_id"}})
		if status := m.Wait(30 * time.Second); status != 0 {
			t.Fatalf("exit status %d; stderr: %s", status, m.Stderr.String())
		}
		ids = append(ids, strings.TrimSpace(m.Stdout.String()))
	}
	if ids[0] == strings.TrimSpace(string(host)) {
		t.Errorf("the container sees the host's boot ID %s", ids[0])
	}
	if ids[0] == ids[1] || ids[0] == "" {
		t.Errorf("two boots of the same machine have the boot IDs %q and %q", ids[0], ids[1])
	}
}
