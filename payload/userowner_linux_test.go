package payload

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nsOwner is the owner UID of the user namespace of process pid.
func nsOwner(t *testing.T, pid int) uint32 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var uid uint32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.NS_GET_OWNER_UID, uintptr(unsafe.Pointer(&uid))); e != 0 {
		t.Fatalf("ioctl(NS_GET_OWNER_UID) on %s: %v", f.Name(), e)
	}
	return uid
}

// TestAsOwner: a user namespace cloned under asOwner is owned by the
// range's base UID, the privileged maps are written, the child is the
// namespace's root, and the forking thread gets back its IDs,
// capabilities, dumpable flag and parent-death signal.
func TestAsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("SOCKSPAWN_E2E") == "1" {
			t.Fatal("needs root (SOCKSPAWN_E2E=1)")
		}
		t.Skip("needs root")
	}
	m := IDMap{Base: 0x7F000000, Size: 65536} // outside the range sockspawn picks from
	cmd := exec.Command("/bin/sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(m.Base), Size: int(m.Size)}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(m.Base), Size: int(m.Size)}},
		GidMappingsEnableSetgroups: true,
		Credential:                 &syscall.Credential{Uid: 0, Gid: 0},
		Pdeathsig:                  syscall.SIGKILL,
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGUSR2), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0)
	before, err := saveThreadCreds()
	if err != nil {
		t.Fatal(err)
	}
	var during int
	err = asOwner(m, func() error {
		during = unix.Geteuid()
		return cmd.Start()
	})
	if err != nil {
		t.Fatalf("start a process in a user namespace as its owner: %v", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	after, err := saveThreadCreds()
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("the forking thread's credentials after: %+v, before: %+v", after, before)
	}
	if during != int(m.Base) {
		t.Errorf("effective UID while starting: %d, want %d", during, m.Base)
	}
	if owner := nsOwner(t, cmd.Process.Pid); owner != m.Base {
		t.Errorf("owner of the child's user namespace: %d, want %d", owner, m.Base)
	}
	if owner := nsOwner(t, os.Getpid()); owner != 0 {
		t.Errorf("owner of the test's own user namespace: %d, want 0", owner)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Fields(string(b)), []string{"0", fmt.Sprint(m.Base), fmt.Sprint(m.Size)}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the child's uid_map: %q, want %q", got, want)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) == 5 && (f[0] == "Uid:" || f[0] == "Gid:") {
			for _, id := range f[1:] {
				if id != fmt.Sprint(m.Base) {
					t.Errorf("the child's %s, want the base ID %d in every column", l, m.Base)
					break
				}
			}
		}
	}
}

// TestAsOwnerRefused: a start that fails is reported, and the thread is
// restored all the same.
func TestAsOwnerRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := saveThreadCreds()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Errorf("refused")
	if err := asOwner(IDMap{Base: 0x7F000000, Size: 1}, func() error { return want }); err != want {
		t.Errorf("asOwner returned %v, want %v", err, want)
	}
	if after, _ := saveThreadCreds(); after != before {
		t.Errorf("the thread's credentials after: %+v, before: %+v", after, before)
	}
}

// TestAsOwnerIntoCgroup: as the range's owner, the forking thread still
// clones straight into a cgroup only root may write (CLONE_INTO_CGROUP
// checks the forking thread's write permission on cgroup.procs).
func TestAsOwnerIntoCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	mnt, err := UnifiedMount()
	if err != nil {
		t.Skipf("no cgroup2 hierarchy: %v", err)
	}
	b, _ := os.ReadFile("/proc/self/cgroup")
	own, _ := OwnCgroup(b)
	rel := filepath.Join(own, "sockspawn-owner-test-"+strconv.Itoa(os.Getpid()))
	dir := filepath.Join(mnt, rel)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("make a cgroup: %v", err)
	}
	defer os.Remove(dir)
	cg, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	m := IDMap{Base: 0x7F000000, Size: 65536}
	cmd := exec.Command("/bin/sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(m.Base), Size: int(m.Size)}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(m.Base), Size: int(m.Size)}},
		Credential:  &syscall.Credential{Uid: 0, Gid: 0},
		UseCgroupFD: true,
		CgroupFD:    int(cg.Fd()),
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := asOwner(m, cmd.Start); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			t.Skipf("no clone3: %v", err)
		}
		t.Fatalf("clone into %s as UID %d: %v", dir, m.Base, err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(procs)) != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("%s/cgroup.procs: %q, want the child %d", dir, procs, cmd.Process.Pid)
	}
	if owner := nsOwner(t, cmd.Process.Pid); owner != m.Base {
		t.Errorf("owner of the child's user namespace: %d, want %d", owner, m.Base)
	}
}
