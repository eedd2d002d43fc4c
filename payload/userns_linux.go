package payload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// UserRange is a UID/GID range reserved for one running container. The
// reservation is a lock on a file in sockspawn's runtime directory, held
// for the container's life, so two containers never share a range.
type UserRange struct {
	IDMap
	lock *os.File
}

// userRangeDir holds the reservations: one locked file per range base.
const userRangeDir = "/run/sockspawn/userns"

// ReserveUserRange reserves want.Base (if set) or picks a free range for
// machine: one no other container holds and no user or group of the host
// uses.
func ReserveUserRange(machine string, want IDMap) (*UserRange, error) {
	if err := os.MkdirAll(userRangeDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", userRangeDir, err)
	}
	if want.Base != 0 {
		return lockRange(want)
	}
	passwd, _ := os.ReadFile("/etc/passwd")
	group, _ := os.ReadFile("/etc/group")
	for _, base := range PickCandidates(machine, 256) {
		if RangeUsed(base, want.Size, passwd, group) {
			continue
		}
		r, err := lockRange(IDMap{Base: base, Size: want.Size})
		if err == nil {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no free range of %d UIDs for machine %s", want.Size, machine)
}

func lockRange(m IDMap) (*UserRange, error) {
	p := filepath.Join(userRangeDir, strconv.FormatUint(uint64(m.Base), 10))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("UID range %d is in use by another container", m.Base)
	}
	return &UserRange{IDMap: m, lock: f}, nil
}

// Release gives the range back.
func (r *UserRange) Release() {
	if r == nil || r.lock == nil {
		return
	}
	_ = os.Remove(r.lock.Name())
	r.lock.Close()
	r.lock = nil
	_ = os.Remove(userRangeDir)
}

// idmappedTree returns a detached copy of the tree at rel inside image
// (resolved inside the image), idmapped through the user namespace usernsFD:
// what root owns on disk, the container's root owns inside, and the image
// is never chowned.
func idmappedTree(image, rel string, recursive bool, usernsFD int) (*os.File, error) {
	src, err := openIn(image, rel, unix.O_PATH)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	attrFlags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
		attrFlags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(int(src.Fd()), "", flags)
	if err != nil {
		return nil, &os.PathError{Op: "open_tree", Path: src.Name(), Err: err}
	}
	tree := os.NewFile(uintptr(fd), src.Name())
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(usernsFD)}
	if err := unix.MountSetattr(fd, "", attrFlags, &attr); err != nil {
		tree.Close()
		if errors.Is(err, unix.EINVAL) {
			err = fmt.Errorf("%w (does the file system of %s support idmapped mounts?)", err, src.Name())
		}
		return nil, &os.PathError{Op: "mount_setattr(MOUNT_ATTR_IDMAP)", Path: src.Name(), Err: err}
	}
	return tree, nil
}

// hostTree returns a detached copy of the host path p (with its submounts
// if recursive), for a stage that cannot open p itself.
func hostTree(p string, recursive bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, p, flags)
	if err != nil {
		return nil, &os.PathError{Op: "open_tree", Path: p, Err: err}
	}
	return os.NewFile(uintptr(fd), p), nil
}

// chownCgroup hands a delegated cgroup to the container's root, as systemd
// does for delegation to a user: the directory and the files that create
// children and move processes.
func chownCgroup(dir string, uid, gid int) error {
	for _, p := range []string{"", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control"} {
		if err := os.Chown(filepath.Join(dir, p), uid, gid); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("hand cgroup to the container's root: %w", err)
		}
	}
	return nil
}
