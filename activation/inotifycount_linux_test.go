package activation

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Copies of one instance count once, whatever their fds.
func TestInotifyCountDistinct(t *testing.T) {
	a, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(a)
	b, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(b)
	a2, err := unix.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(a2)
	pid := os.Getpid()
	got := countDistinct([]inotifyFile{{pid, a, 7}, {pid, b, 7}, {pid, a2, 7}, {pid, a, 7}})
	if got[7] != 2 {
		t.Errorf("two instances, one of them open three times: counted %d", got[7])
	}
}

// An instance counts for the user that made it, and one made in a user
// namespace for the owner of that namespace: the kernel's rule. The user
// is one no one else on the host uses, so root's budget is left alone.
func TestInotifyInstancesCharged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run processes as another user")
	}
	for _, tool := range []string{"setpriv", "unshare", "tail"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	const uid = 43219
	start := func(args ...string) {
		cmd := exec.Command("setpriv", append([]string{"--reuid=43219", "--regid=43219", "--clear-groups"}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() })
	}
	// tail -f holds one inotify instance.
	start("tail", "-f", "/etc/hostname")
	start("unshare", "-U", "tail", "-f", "/etc/hostname")
	start("unshare", "-U", "--map-root-user", "tail", "-f", "/etc/hostname")
	// A namespace that root makes, mapping its root to uid: what it
	// makes is charged to root, the owner, not to uid.
	byRoot := exec.Command("tail", "-f", "/etc/hostname")
	byRoot.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}},
	}
	if err := byRoot.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = byRoot.Process.Signal(syscall.SIGKILL); _ = byRoot.Wait() })
	var n map[uint32]int
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		var err error
		if n, err = InotifyInstances(); err != nil {
			t.Fatal(err)
		}
		if n[uid] >= 3 && hasInotify(byRoot.Process.Pid) {
			break
		}
	}
	if n[uid] != 3 {
		t.Errorf("uid %d holds 3 instances (one in the host's namespace, two in namespaces it owns), and one more is root's (a namespace root owns); counted %d (%v)", uid, n[uid], n)
	}
	if n[0] < 1 {
		t.Errorf("the instance made in a namespace that root owns was not counted for root: %v", n)
	}
}

// hasInotify reports whether process pid holds an inotify instance.
func hasInotify(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	fds, _ := os.ReadDir(dir)
	for _, f := range fds {
		if l, _ := os.Readlink(dir + f.Name()); l == "anon_inode:inotify" {
			return true
		}
	}
	return false
}
