//go:build linux

package e2e

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestNetworkNamespacePath: --network-namespace-path runs the container
// in an existing network namespace, which outlives it; a path that is not
// a network namespace is refused, naming what it is.
func TestNetworkNamespacePath(t *testing.T) {
	needPortTools(t)
	t.Parallel()
	suffix := randomHex(t, 3)
	ns, dummy := "e2ens-"+suffix, "m"+suffix
	mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v %s", ns, err, out)
		}
	})
	// A veth pair made inside it marks it: the machine must see it.
	mustRun(t, "ip", "-n", ns, "link", "add", dummy, "type", "veth", "peer", "name", "p"+dummy)

	m := startMachine(t, runSpec{Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe",
		"--network-namespace-path=/run/netns/" + ns, "--", "/bin/sh", "-c", "ls /sys/class/net"}})
	if status := m.Wait(60 * time.Second); status != 0 {
		t.Fatalf("exit status %d; stderr: %s", status, m.Stderr.String())
	}
	got := strings.Fields(m.Stdout.String())
	sort.Strings(got)
	if strings.Join(got, " ") != "lo "+dummy+" p"+dummy {
		t.Errorf("interfaces inside: %q, want %s, lo and p%s", got, dummy, dummy)
	}
	if out, err := exec.Command("ip", "-n", ns, "link", "show", dummy).CombinedOutput(); err != nil {
		t.Errorf("the namespace lost %s with the machine: %v %s", dummy, err, out)
	}

	for path, want := range map[string]string{
		"/etc/hostname":       "/etc/hostname is not a namespace",
		"/proc/self/ns/pid":   "is a pid namespace, not a network namespace",
		"/run/netns/missing0": "no such file",
	} {
		bad := startMachine(t, runSpec{Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe",
			"--network-namespace-path=" + path, "--", "/bin/true"}})
		if status := bad.Wait(60 * time.Second); status == 0 {
			t.Errorf("--network-namespace-path=%s: the machine started", path)
		}
		if msg := bad.Stderr.String(); !strings.Contains(msg, "--network-namespace-path") || !strings.Contains(msg, want) {
			t.Errorf("--network-namespace-path=%s: error %q, want one containing %q", path, msg, want)
		}
	}
}
