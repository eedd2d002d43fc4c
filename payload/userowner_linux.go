package payload

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel makes a user namespace's owner the effective UID (and GID)
// of the thread that creates it, and charges everything made inside to
// that owner as well, up the chain: inotify instances and watches, keys,
// the counts of /proc/sys/user/. The stage is cloned with CLONE_NEWUSER,
// so the owner is whoever calls clone: the supervisor, root. asOwner
// makes it the container's own base UID instead, so that a container
// with a private user range has a budget of its own, not a share of
// root's.
//
// Only the thread that clones changes, and only for the clone: setresuid
// and capset act on the calling thread alone when called as raw system
// calls (Go's syscall.Setresuid changes every thread), and the clone
// copies that thread's credentials into the child. The thread keeps its
// capabilities by raising them again with capset after setresuid (an
// effective UID that leaves 0 drops the effective set; the permitted set
// stays while the real and saved UIDs are 0), not by securebits, which
// the stage, and so the container, would inherit across execve. With its
// capabilities the thread still passes what the clone checks as root
// would: CLONE_INTO_CGROUP's write permission on the cgroup, and the
// UID/GID maps, which Go writes from this thread after the clone (a
// writer with CAP_SETUID in the parent namespace may map any range). The
// child becomes the namespace's root (Go's Credential) before it
// executes the stage, as before.

// capHeader is a capget/capset header for this thread.
func capHeader() *unix.CapUserHeader {
	return &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
}

// threadCreds is what asOwner changes on its thread and puts back.
type threadCreds struct {
	euid, egid int
	caps       [2]unix.CapUserData
	dumpable   int // commit_creds resets it when the effective UID changes
	pdeathsig  int // likewise
}

func saveThreadCreds() (threadCreds, error) {
	var c threadCreds
	c.euid, c.egid = unix.Geteuid(), unix.Getegid()
	if err := unix.Capget(capHeader(), &c.caps[0]); err != nil {
		return c, os.NewSyscallError("capget", err)
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		return c, os.NewSyscallError("prctl(PR_GET_DUMPABLE)", err)
	}
	c.dumpable = d
	var sig int32
	if err := unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig)), 0, 0, 0); err != nil {
		return c, os.NewSyscallError("prctl(PR_GET_PDEATHSIG)", err)
	}
	c.pdeathsig = int(sig)
	return c, nil
}

// setThreadIDs sets the calling thread's effective UID and GID, and then
// its capabilities to caps.
func setThreadIDs(uid, gid int, caps *[2]unix.CapUserData) error {
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, ^uintptr(0), uintptr(gid), ^uintptr(0)); e != 0 {
		return fmt.Errorf("setresgid(-1, %d, -1) on the forking thread: %w", gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, ^uintptr(0), uintptr(uid), ^uintptr(0)); e != 0 {
		return fmt.Errorf("setresuid(-1, %d, -1) on the forking thread: %w", uid, e)
	}
	if err := unix.Capset(capHeader(), &caps[0]); err != nil {
		return fmt.Errorf("capset on the forking thread as UID %d: %w", uid, err)
	}
	return nil
}

// restore puts the thread's credentials back as saved.
func (c *threadCreds) restore() error {
	if err := setThreadIDs(c.euid, c.egid, &c.caps); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(c.dumpable), 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_DUMPABLE)", err)
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(c.pdeathsig), 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_PDEATHSIG)", err)
	}
	return nil
}

// asOwner runs start on the calling thread (locked to it meanwhile) with
// that thread's effective UID and GID switched to m.Base and its
// capabilities kept: a user namespace start creates is owned by m.Base.
func asOwner(m IDMap, start func() error) error {
	runtime.LockOSThread()
	saved, err := saveThreadCreds()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("switch to the user range's owner: %w", err)
	}
	if err := setThreadIDs(int(m.Base), int(m.Base), &saved.caps); err != nil {
		if rerr := saved.restore(); rerr != nil {
			// The thread's credentials are unknown: it must not run
			// anything else, and Go ends a thread whose locked
			// goroutine exits.
			panic(fmt.Sprintf("sockspawn: cannot restore the forking thread's credentials: %v", rerr))
		}
		runtime.UnlockOSThread()
		return fmt.Errorf("switch to the user range's owner: %w", err)
	}
	err = start()
	if rerr := saved.restore(); rerr != nil {
		panic(fmt.Sprintf("sockspawn: cannot restore the forking thread's credentials: %v", rerr))
	}
	runtime.UnlockOSThread()
	return err
}
