package payload

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFrozenEvent(t *testing.T) {
	for text, want := range map[string]bool{
		"populated 1\nfrozen 1\n": true,
		"populated 1\nfrozen 0\n": false,
		"populated 0\n":           false,
		"frozen 1":                true,
		"":                        false,
		"frozen 10\n":             false,
	} {
		if got := FrozenEvent([]byte(text)); got != want {
			t.Errorf("FrozenEvent(%q) = %v, want %v", text, got, want)
		}
	}
}

// TestFreezer freezes a cgroup with a process in it: the process stops
// using CPU and is stopped in the freezer's sense; thawed, it runs again.
func TestFreezer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a cgroup")
	}
	if err := CanFreeze(); err != nil {
		t.Skipf("no freezer: %v", err)
	}
	mnt, _ := UnifiedMount()
	b, _ := os.ReadFile("/proc/self/cgroup")
	own, _ := OwnCgroup(b)
	dir := filepath.Join(mnt, own, "sockspawn-freezer-test-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("make a cgroup: %v", err)
	}
	defer os.Remove(dir)
	fz, err := OpenFreezer(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fz.Close()
	// A busy loop, so that a frozen one shows in its CPU time.
	cmd := exec.Command("/bin/sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	if err := fz.Freeze(10 * time.Second); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if f, err := fz.Frozen(); err != nil || !f {
		t.Fatalf("after Freeze, Frozen() = %v, %v", f, err)
	}
	before := cpuUsage(t, dir)
	time.Sleep(200 * time.Millisecond)
	if after := cpuUsage(t, dir); after != before {
		t.Errorf("a frozen busy loop used CPU: usage_usec %d -> %d", before, after)
	}
	if err := fz.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := fz.WaitFrozen(false, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for cpuUsage(t, dir) == before {
		if time.Now().After(deadline) {
			t.Fatal("the thawed busy loop never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func cpuUsage(t *testing.T, dir string) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "usage_usec "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("no usage_usec in %s/cpu.stat", dir)
	return 0
}

func TestOpenFreezerMissing(t *testing.T) {
	_, err := OpenFreezer(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "cgroup.freeze") {
		t.Errorf("OpenFreezer on a plain directory: %v, want an error naming cgroup.freeze", err)
	}
}
