package activation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PropagateBase is where systemd-machined looks for a container's mount
// tunnel when `machinectl bind` asks it to mount a host path into the
// container: it mounts the path at PropagateBase/NAME/XXXXXX on the host,
// the mount propagates to /run/host/incoming/XXXXXX inside, and machined
// moves it from there to its destination in the container's mount
// namespace. The path is machined's (systemd-nspawn's) and fixed.
const PropagateBase = "/run/systemd/nspawn/propagate"

// LinkPropagation makes PropagateBase/machine a symlink to dir, the
// machine's tunnel in sockspawn's own runtime directory, whose bind at
// /run/host/incoming in the container receives what is mounted beneath it
// on the host. A stale symlink is replaced; anything else is left alone
// and reported. The directories above it are made as systemd-nspawn makes
// them and stay. unlink removes the symlink.
func LinkPropagation(machine, dir string) (unlink func(), err error) {
	unlink = func() {}
	if err := os.MkdirAll(filepath.Dir(PropagateBase), 0o755); err != nil {
		return unlink, fmt.Errorf("machinectl bind: %w", err)
	}
	if err := os.Mkdir(PropagateBase, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return unlink, fmt.Errorf("machinectl bind: %w", err)
	}
	link := filepath.Join(PropagateBase, machine)
	if st, err := os.Lstat(link); err == nil {
		if st.Mode()&fs.ModeSymlink == 0 {
			return unlink, fmt.Errorf("machinectl bind will not reach %s: %s exists and is not sockspawn's (a systemd-nspawn machine of the same name?)", machine, link)
		}
		if err := os.Remove(link); err != nil {
			return unlink, fmt.Errorf("machinectl bind: remove stale %s: %w", link, err)
		}
	}
	if err := os.Symlink(dir, link); err != nil {
		return unlink, fmt.Errorf("machinectl bind: %w", err)
	}
	return func() {
		if target, err := os.Readlink(link); err == nil && target == dir {
			_ = os.Remove(link)
		}
	}, nil
}
