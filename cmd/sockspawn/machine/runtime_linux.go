package machine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// RuntimeBase is sockspawn's own runtime directory of running machines.
// Each has an empty directory there, locked while it runs, that keeps a
// machine from running twice; the init stage builds the container's root
// on it, in the container's own mount namespace (nothing is ever mounted
// on it in the host's). TunnelBase holds the mount tunnels of
// `machinectl bind`. A machine's entries are removed when it ends; the two
// directories themselves stay, as /run/systemd/nspawn does, so that one
// machine's end never races another's start.
var (
	RuntimeBase = "/run/sockspawn/machines"
	TunnelBase  = "/run/sockspawn/propagate"
)

// machineRuntime is one machine's runtime directory, locked.
type machineRuntime struct {
	// Dir is the locked directory, also where the stage builds the
	// container's root.
	Dir string
	// Propagate is the mount tunnel of `machinectl bind`, or "": bound
	// read-only at /run/host/incoming in the container, it receives
	// what machined mounts beneath it on the host
	// (activation.LinkPropagation).
	Propagate string
	lock      *os.File
}

// acquireRuntime makes and locks machine's runtime directory, and its
// mount tunnel if tunnel is set (only machined uses it, so only a machine
// that may register needs it).
func acquireRuntime(machine string, tunnel bool) (*machineRuntime, error) {
	if err := os.MkdirAll(RuntimeBase, 0o755); err != nil {
		return nil, fmt.Errorf("create runtime directory: %w", err)
	}
	dir := filepath.Join(RuntimeBase, machine)
	// 0755: a stage in a user namespace (not host root) must reach it.
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
	rt := &machineRuntime{Dir: dir, lock: lock}
	if tunnel {
		if err := os.MkdirAll(TunnelBase, 0o755); err != nil {
			rt.release()
			return nil, fmt.Errorf("create mount tunnel directory: %w", err)
		}
		rt.Propagate = filepath.Join(TunnelBase, machine)
		if err := os.Mkdir(rt.Propagate, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			rt.Propagate = ""
			rt.release()
			return nil, fmt.Errorf("create mount tunnel directory: %w", err)
		}
	}
	return rt, nil
}

// release removes the machine's runtime directory and tunnel, and drops
// the lock.
func (rt *machineRuntime) release() {
	// rmdir, not os.Remove (which tries unlink first): both are
	// directories. Never RemoveAll: machined may (briefly) have a mount
	// beneath the tunnel.
	if rt.Propagate != "" {
		_ = unix.Rmdir(rt.Propagate)
	}
	_ = unix.Rmdir(rt.Dir)
	rt.lock.Close()
}
