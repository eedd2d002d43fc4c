//go:build linux

package e2e

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/activation"
)

// userNSOwner is the owner, as a host UID, of process pid's user namespace.
func userNSOwner(t *testing.T, pid int) uint32 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	uid, err := activation.UserNSOwner(int(f.Fd()))
	if err != nil {
		t.Fatalf("%s: %v", f.Name(), err)
	}
	return uid
}

// inotifyRoomOf is how many more inotify instances the kernel lets uid
// create on the host: it opens instances as uid (on a thread of its own,
// which ends with them, so the test's other threads stay root) until the
// kernel refuses, and closes them. It fills only uid's budget.
func inotifyRoomOf(t *testing.T, uid uint32) int {
	t.Helper()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, ^uintptr(0), uintptr(uid), ^uintptr(0)); e != 0 {
			done <- result{err: fmt.Errorf("setresuid(-1, %d, -1): %w", uid, e)}
			return
		}
		var fds []int
		defer func() {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}()
		for {
			fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
			if err == unix.EMFILE {
				done <- result{n: len(fds)}
				return
			}
			if err != nil {
				done <- result{n: len(fds), err: fmt.Errorf("inotify_init1 as UID %d after %d: %w", uid, len(fds), err)}
				return
			}
			fds = append(fds, fd)
		}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.n
}

// TestUserNamespaceOwner boots systemd with -U and checks from the host
// that the container's user namespace is owned by its base UID, not root,
// so that the kernel charges its per-user counts to that UID alone: the
// inotify instances its systemd holds are missing from that UID's budget
// (as the kernel enforces it, measured by filling it) and counted for it
// by sockspawn's counter, and a user namespace owner's privilege never
// reaches the container's unprivileged processes.
func TestUserNamespaceOwner(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	m, _ := bootMachine(t, "-U", "--console=passive")
	checkSystemRunning(t, m)
	leader := m.Leader()
	_, base, _ := uidMapOf(t, leader)
	if base == 0 {
		t.Fatalf("the container's init has no private user range")
	}
	if owner := userNSOwner(t, leader); uint64(owner) != base {
		t.Fatalf("the container's user namespace is owned by UID %d, want its base UID %d", owner, base)
	}

	t.Run("inotify-charged-to-base", func(t *testing.T) {
		limitText, err := os.ReadFile("/proc/sys/fs/inotify/max_user_instances")
		if err != nil {
			t.Fatal(err)
		}
		limit, err := strconv.Atoi(strings.TrimSpace(string(limitText)))
		if err != nil {
			t.Fatal(err)
		}
		counted, err := activation.InotifyInstances()
		if err != nil {
			t.Fatal(err)
		}
		room := inotifyRoomOf(t, uint32(base))
		charged := limit - room
		t.Logf("UID %d: %d of %d inotify instances charged by the kernel, %d counted in /proc", base, charged, limit, counted[uint32(base)])
		// A booted systemd holds several (5 in PID 1 alone).
		if charged < 5 {
			t.Errorf("the kernel charges %d inotify instances to the container's base UID %d, want those of its systemd (at least 5)", charged, base)
		}
		if counted[uint32(base)] != charged {
			t.Errorf("sockspawn counts %d inotify instances for UID %d, the kernel charges %d", counted[uint32(base)], base, charged)
		}
	})

	t.Run("no-capabilities-after-setuid", func(t *testing.T) {
		// systemd inside starts the service; as it drops root, the
		// kernel must drop its capabilities (no securebit inherited).
		out, err := m.Enter(60*time.Second, "systemd-run", "--wait", "--pipe", "-q", "-p", "User=nobody",
			"-p", "CapabilityBoundingSet=~", "grep", "^Cap", "/proc/self/status")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 2 && (f[0] == "CapEff:" || f[0] == "CapPrm:") && strings.Trim(f[1], "0") != "" {
				t.Errorf("a service of nobody inside holds capabilities: %s", l)
			}
		}
		out, err = m.Enter(60*time.Second, "systemd-run", "--wait", "--pipe", "-q", "setpriv", "--dump")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !strings.Contains(out, "Securebits: [none]") {
			t.Errorf("a service inside has securebits set:\n%s", out)
		}
	})

	m.Signal(unix.SIGTERM)
	if status := m.Wait(shutdownTimeout); status != 0 {
		t.Errorf("exit status after SIGTERM: %d, want 0", status)
	}
}
