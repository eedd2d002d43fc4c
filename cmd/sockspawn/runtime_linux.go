package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// RuntimeBase is sockspawn's own runtime directory. It holds, per running
// machine, an empty directory on which the init stage builds the
// container's root (in the container's own mount namespace: nothing is
// ever mounted on it in the host's), and the lock that keeps a machine
// from running twice. Everything is removed when the container ends.
var RuntimeBase = "/run/sockspawn/machines"

// machineRuntime is one machine's runtime directory, locked.
type machineRuntime struct {
	Dir  string
	Root string
	// Propagate is the mount tunnel of `machinectl bind`: bound
	// read-only at /run/host/incoming in the container, it receives
	// what machined mounts beneath it on the host
	// (activation.LinkPropagation).
	Propagate string
	lock      *os.File
}

func acquireRuntime(machine string) (*machineRuntime, error) {
	if err := os.MkdirAll(RuntimeBase, 0o755); err != nil {
		return nil, fmt.Errorf("create runtime directory: %w", err)
	}
	dir := filepath.Join(RuntimeBase, machine)
	// 0755: a stage in a user namespace (not host root) must reach root/.
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create runtime directory: %w", err)
	}
	lock, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open runtime directory: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("machine %q is already running (%s is locked)", machine, dir)
		}
		return nil, &os.PathError{Op: "flock", Path: dir, Err: err}
	}
	rt := &machineRuntime{Dir: dir, Root: filepath.Join(dir, "root"), Propagate: filepath.Join(dir, "propagate"), lock: lock}
	if err := os.Mkdir(rt.Root, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		rt.release()
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	if err := os.Mkdir(rt.Propagate, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		rt.release()
		return nil, fmt.Errorf("create mount tunnel directory: %w", err)
	}
	return rt, nil
}

// release removes the runtime directory and drops the lock.
func (rt *machineRuntime) release() {
	// rmdir, not os.Remove (which tries unlink first): all are
	// directories. Never RemoveAll: machined may (briefly) have a mount
	// beneath the tunnel.
	for _, d := range []string{rt.Root, rt.Propagate, rt.Dir, RuntimeBase, filepath.Dir(RuntimeBase)} {
		_ = unix.Rmdir(d) // the last two only if no other machine runs
	}
	rt.lock.Close()
}
