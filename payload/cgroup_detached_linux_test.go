package payload

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestDetachedCgroup2 checks the fallback for hosts with cgroup v1 alone:
// a detached cgroup2 mount, visible in no mount table, through which a
// cgroup is made and a process started straight into it.
func TestDetachedCgroup2(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("SOCKSPAWN_E2E") == "1" {
			t.Fatal("needs root (SOCKSPAWN_E2E=1)")
		}
		t.Skip("needs root")
	}
	before, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	f, err := detachedCgroup2()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Fatalf("detached mount: statfs type %x, %v; want cgroup2", st.Type, err)
	}
	own, err := OwnCgroup(mustReadFile(t, "/proc/self/cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("sockspawn-detached-test-%d", time.Now().UnixNano())
	dir := path.Join("/proc/self/fd", fmt.Sprint(f.Fd()), own, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := removeTree(dir); err != nil {
			t.Error(err)
		}
	}()
	cg, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	cmd := exec.Command("/bin/cat", "/proc/self/cgroup")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "0::" + path.Join(own, name)
	if !strings.Contains(string(out), want+"\n") {
		t.Errorf("a process started through the detached mount is in\n%s\nwant %s", out, want)
	}
	after, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	// Only the cgroup2 mounts: other tests running meanwhile mount and
	// unmount other things in the host's namespace.
	if b, a := cgroup2Mounts(before), cgroup2Mounts(after); b != a {
		t.Errorf("the detached mount changed the host's cgroup2 mounts:\nbefore:\n%s\nafter:\n%s", b, a)
	}
}

// cgroup2Mounts is the cgroup2 lines of mountinfo.
func cgroup2Mounts(mountinfo []byte) string {
	var out []string
	for _, l := range strings.Split(string(mountinfo), "\n") {
		if strings.Contains(l, " - cgroup2 ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
