package payload

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Freezer freezes and thaws the container's cgroup with cgroup2's freezer
// (cgroup.freeze, Linux 5.2): every process of the container stops where
// it is, holding its memory and its sockets, until thawed. Unlike SIGSTOP,
// no process inside can tell.
type Freezer struct {
	dir    string
	freeze *os.File // cgroup.freeze, open for writing
	events *os.File // cgroup.events, where "frozen 1" says the freeze is done
}

// OpenFreezer opens the freezer of the cgroup2 cgroup dir.
func OpenFreezer(dir string) (*Freezer, error) {
	fz := &Freezer{dir: dir}
	var err error
	if fz.freeze, err = os.OpenFile(filepath.Join(dir, "cgroup.freeze"), os.O_WRONLY|unix.O_CLOEXEC, 0); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("cgroup %s has no cgroup.freeze: the freezer needs cgroup2 on Linux 5.2 or later", dir)
		}
		return nil, err
	}
	if fz.events, err = os.Open(filepath.Join(dir, "cgroup.events")); err != nil {
		fz.freeze.Close()
		return nil, err
	}
	return fz, nil
}

// CanFreeze says why a container could not be frozen on this host, or
// nil: cgroup2 must be mounted and its cgroups must have cgroup.freeze.
// own is the supervisor's cgroup2 path (the "0::" line of
// /proc/self/cgroup).
func CanFreeze() error {
	mnt, err := UnifiedMount()
	if err != nil {
		return fmt.Errorf("%w: cgroup2's freezer is not available", err)
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return err
	}
	own, err := OwnCgroup(b)
	if err != nil {
		return err
	}
	if own == "/" {
		return nil // the root has no cgroup.freeze, but the container's cgroup below it will
	}
	if _, err := os.Stat(filepath.Join(mnt, own, "cgroup.freeze")); err != nil {
		return fmt.Errorf("%s has no cgroup.freeze: the freezer needs cgroup2 on Linux 5.2 or later", filepath.Join(mnt, own))
	}
	return nil
}

// Freeze freezes the cgroup and waits, at most timeout, until every
// process in it is frozen. On a timeout the cgroup is thawed again.
func (fz *Freezer) Freeze(timeout time.Duration) error {
	if _, err := fz.freeze.WriteAt([]byte("1"), 0); err != nil {
		return fmt.Errorf("freeze %s: %w", fz.dir, err)
	}
	if err := fz.WaitFrozen(true, timeout); err != nil {
		_ = fz.Thaw()
		return err
	}
	return nil
}

// Thaw thaws the cgroup. It does not wait: a thawed process runs as soon
// as it is scheduled.
func (fz *Freezer) Thaw() error {
	if _, err := fz.freeze.WriteAt([]byte("0"), 0); err != nil {
		return fmt.Errorf("thaw %s: %w", fz.dir, err)
	}
	return nil
}

// Frozen reads whether the cgroup is frozen now.
func (fz *Freezer) Frozen() (bool, error) {
	buf := make([]byte, 256)
	n, err := fz.events.ReadAt(buf, 0)
	if n == 0 && err != nil {
		return false, fmt.Errorf("read %s/cgroup.events: %w", fz.dir, err)
	}
	return FrozenEvent(buf[:n]), nil
}

// FrozenEvent reads the "frozen" key of a cgroup.events text.
func FrozenEvent(events []byte) bool {
	for _, l := range bytes.Split(events, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("frozen ")); ok {
			return string(bytes.TrimSpace(v)) == "1"
		}
	}
	return false
}

// WaitFrozen waits until cgroup.events says frozen is want; the kernel wakes a
// poll on cgroup.events (POLLPRI) when it changes.
func (fz *Freezer) WaitFrozen(want bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := fz.Frozen()
		if err != nil {
			return err
		}
		if got == want {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			if !want {
				return fmt.Errorf("cgroup %s: still frozen after %v", fz.dir, timeout)
			}
			return fmt.Errorf("freeze %s: not frozen after %v (a process inside in uninterruptible sleep?)", fz.dir, timeout)
		}
		pfd := []unix.PollFd{{Fd: int32(fz.events.Fd()), Events: unix.POLLPRI}}
		if _, err := unix.Poll(pfd, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return fmt.Errorf("freeze %s: %w", fz.dir, os.NewSyscallError("poll", err))
		}
	}
}

// Dir is the cgroup's directory.
func (fz *Freezer) Dir() string { return fz.dir }

// Close closes the freezer's files; it leaves the cgroup as it is.
func (fz *Freezer) Close() error {
	if fz == nil {
		return nil
	}
	fz.events.Close()
	return fz.freeze.Close()
}
