//go:build linux

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCgroupWithoutCloneInto runs the path sockspawn takes on kernels
// without clone3(CLONE_INTO_CGROUP): the stage is cloned as usual, moved
// into the container's cgroup, and only then makes its cgroup namespace.
// Seen from the host the container is in its own cgroup; seen from inside
// that cgroup is the root.
func TestCgroupWithoutCloneInto(t *testing.T) {
	needRoot(t)
	t.Parallel()
	m := startMachine(t, runSpec{Notify: true, Env: []string{"SOCKSPAWN_CLONE_INTO_CGROUP=0"},
		Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe", "--", "/bin/sh", "-c", "cat /proc/self/cgroup; sleep 2"}})
	leader := m.Leader()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", leader))
	if err != nil {
		t.Fatal(err)
	}
	var outside string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "0::"); ok {
			outside = v
		}
	}
	if !strings.HasSuffix(outside, "/sockspawn-"+m.Name) && !strings.HasSuffix(outside, "/payload") {
		t.Errorf("from the host the container's init is in cgroup %q, not the container's own", outside)
	}
	if status := m.Wait(30 * time.Second); status != 0 {
		t.Fatalf("exit status %d; stderr: %s", status, m.Stderr.String())
	}
	for _, l := range lines(m.Stdout.String()) {
		if strings.HasPrefix(l, "0::") && l != "0::/" {
			t.Errorf("inside, the cgroup namespace is not rooted at the container's cgroup: %s", l)
		}
		if strings.Contains(l, ":/") && !strings.HasSuffix(l, ":/") {
			t.Errorf("inside, a hierarchy shows a path outside the container's cgroup: %s", l)
		}
	}
}
