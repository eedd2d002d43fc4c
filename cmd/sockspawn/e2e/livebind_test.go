//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sockspawnBind runs `sockspawn bind ARGS...` and returns its combined
// output and error.
func sockspawnBind(args ...string) (string, error) {
	out, err := exec.Command(sockspawnBin, append([]string{"bind"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// containerMounts returns the lines of the container init's mountinfo
// whose mount point is target.
func containerMounts(t *testing.T, leader int, target string) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", leader))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == target {
			out = append(out, l)
		}
	}
	return out
}

// TestLiveBind: `sockspawn bind` mounts a host directory into a running,
// booted container with open_tree and move_mount: it appears inside,
// writable, without a mount on the host; a second bind to the same target,
// read-only, replaces the first; bad input fails with a clear error and
// leaves the container's mounts as they were.
func TestLiveBind(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	m, _ := bootMachine(t, "--console=passive")
	leader := m.Leader()
	tmp := t.TempDir()
	one, two := filepath.Join(tmp, "one"), filepath.Join(tmp, "two")
	for dir, content := range map[string]string{one: "first", two: "second"} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "greeting"), []byte(content+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const target = "/mnt/live"

	if out, err := sockspawnBind(m.Name, one, target, "--mkdir"); err != nil {
		t.Fatalf("sockspawn bind %s %s %s --mkdir: %v: %s", m.Name, one, target, err, out)
	}
	wantOutput(t, m, "first", "cat", target+"/greeting")
	if _, err := m.Enter(10*time.Second, "sh", "-c", "echo from-inside > "+target+"/reply"); err != nil {
		t.Errorf("writing to the read-write live bind inside: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(one, "reply")); string(b) != "from-inside\n" {
		t.Errorf("the host reads %q from what the container wrote, want from-inside", b)
	}
	// A service started now sees it too (the container's mounts are
	// shared within it).
	wantOutput(t, m, "first", "systemd-run", "--quiet", "--wait", "--pipe", "-p", "PrivateTmp=yes", "cat", target+"/greeting")

	if out, err := sockspawnBind(m.Name, two, target, "--read-only"); err != nil {
		t.Fatalf("second sockspawn bind --read-only: %v: %s", err, out)
	}
	wantOutput(t, m, "second", "cat", target+"/greeting")
	if _, err := m.Enter(10*time.Second, "touch", target+"/nope"); err == nil {
		t.Error("the container could write through sockspawn bind --read-only")
	}
	if ms := containerMounts(t, leader, target); len(ms) != 1 {
		t.Errorf("after the second bind, %d mounts on %s inside, want 1 (replaced, not stacked):\n%s", len(ms), target, strings.Join(ms, "\n"))
	} else if f := strings.Fields(ms[0]); !strings.HasPrefix(f[5], "ro") {
		t.Errorf("the mount on %s inside is %s, want read-only", target, f[5])
	}
	for _, l := range mountinfo(t) {
		if strings.Contains(l, " "+target+" ") || strings.Contains(l, tmp) {
			t.Errorf("a live bind shows in the host's mount table: %s", l)
		}
	}

	// Bad input: a clear error, and the container's mounts untouched.
	hostOnly := filepath.Join(tmp, "host-only") // exists on the host, not in the container
	if err := os.Mkdir(hostOnly, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{"/mnt/escape", hostOnly}, {"/mnt/climb", "../../../../../../.." + hostOnly}} {
		if _, err := m.Enter(10*time.Second, "ln", "-s", l[1], l[0]); err != nil {
			t.Fatal(err)
		}
	}
	before, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", leader))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"e2e-no-such-machine", one, "/mnt/x"}, `no running machine "e2e-no-such-machine"`},
		{[]string{m.Name, filepath.Join(tmp, "missing"), "/mnt/x", "--mkdir"}, "source " + filepath.Join(tmp, "missing") + ": no such file"},
		{[]string{m.Name, one, "mnt/x"}, "not an absolute path inside the container"},
		{[]string{m.Name, one, "/mnt/../../etc"}, `".."`},
		{[]string{m.Name, one, "/run/host/x", "--mkdir"}, "belongs to the container manager"},
		{[]string{m.Name, one, "/proc"}, "refusing to bind over /proc"},
		{[]string{m.Name, one, "/mnt/escape"}, "does not exist in the container"},
		{[]string{m.Name, one, "/mnt/escape", "--mkdir"}, "/mnt/escape"},
		{[]string{m.Name, one, "/mnt/climb", "--mkdir"}, "/mnt/climb"},
		{[]string{m.Name, filepath.Join(one, "greeting"), target}, "is a directory, the source is not"},
	} {
		out, err := sockspawnBind(c.args...)
		if err == nil || !strings.Contains(out, c.want) || strings.Count(out, "\n") > 0 {
			t.Errorf("sockspawn bind %s: %v, %q; want a one-line error with %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	after, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", leader))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("bad input changed the container's mounts:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if entries, _ := os.ReadDir(hostOnly); len(entries) != 0 {
		t.Errorf("a symlink inside led sockspawn bind to the host's %s: %v", hostOnly, entries)
	}
	for _, l := range mountinfo(t) {
		if strings.Contains(l, hostOnly) {
			t.Errorf("a symlink inside led to a mount on the host: %s", l)
		}
	}
	if m.hasExited() {
		t.Fatalf("the container stopped (status %d)", m.exitStatus())
	}
}

// TestLiveBindUserNS: `sockspawn bind` works into a container with its
// own user namespace too (where /run/host/incoming, and so machinectl
// bind, cannot): --mkdir creates the target as the container's root,
// the bind appears, and a second one replaces it.
func TestLiveBindUserNS(t *testing.T) {
	needRoot(t)
	t.Parallel()
	m := startMachine(t, runSpec{Notify: true, Args: append(volatileHost(), "-U", "--console=pipe", "--", "/bin/sleep", "600")})
	leader := m.Leader()
	tmp := t.TempDir()
	for _, d := range []string{"one", "two"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, d, "name"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := sockspawnBind(m.Name, filepath.Join(tmp, "one"), "/srv/deep/live", "--mkdir"); err != nil {
		t.Fatalf("sockspawn bind --mkdir into a -U container: %v: %s", err, out)
	}
	if got, err := m.Enter(10*time.Second, "stat", "-c", "%u", "/srv/deep"); err != nil || got != "0" {
		t.Errorf("/srv/deep made by --mkdir: owner %q (%v), want 0 (the container's root)", got, err)
	}
	if got, err := m.Enter(10*time.Second, "cat", "/srv/deep/live/name"); err != nil || got != "one" {
		t.Errorf("cat /srv/deep/live/name inside: %q (%v), want one", got, err)
	}
	if out, err := sockspawnBind(m.Name, filepath.Join(tmp, "two"), "/srv/deep/live"); err != nil {
		t.Fatalf("second sockspawn bind: %v: %s", err, out)
	}
	if got, err := m.Enter(10*time.Second, "cat", "/srv/deep/live/name"); err != nil || got != "two" {
		t.Errorf("after the second bind, cat inside: %q (%v), want two", got, err)
	}
	if ms := containerMounts(t, leader, "/srv/deep/live"); len(ms) != 1 {
		t.Errorf("%d mounts on /srv/deep/live inside, want 1:\n%s", len(ms), strings.Join(ms, "\n"))
	}
}
