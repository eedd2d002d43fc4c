package payload

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// UserRange is a UID/GID range reserved for one running container. The
// reservation is a lock on a file in sockspawn's runtime directory, held
// for the container's life, so two containers never share an ID.
type UserRange struct {
	IDMap
	lock *os.File
}

// userRangeDir holds the reservations: one locked file per range, named
// after its base, that says the range's size and machine. Reserving and
// releasing take a lock on the directory itself, so that the ranges a
// reservation compares against are all there and complete.
const userRangeDir = "/run/sockspawn/userns"

// ReserveUserRange reserves want (if want.Base is set) or picks a free
// range for machine: one that shares no ID with another running
// container's and, when picked, no user or group of the host uses.
func ReserveUserRange(machine string, want IDMap) (*UserRange, error) {
	dir, err := lockRangeDir()
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	held, err := heldRanges(true)
	if err != nil {
		return nil, err
	}
	if want.Base != 0 {
		if h, ok := RangeCollision(want, held); ok {
			return nil, fmt.Errorf("UID range %s overlaps %s of running machine %s", want, h.IDMap, h.Machine)
		}
		return createRange(HeldRange{IDMap: want, Machine: machine})
	}
	passwd, _ := os.ReadFile("/etc/passwd")
	group, _ := os.ReadFile("/etc/group")
	for _, base := range PickCandidates(machine, 256) {
		m := IDMap{Base: base, Size: want.Size}
		if _, used := RangeCollision(m, held); used || RangeUsed(base, want.Size, passwd, group) {
			continue
		}
		return createRange(HeldRange{IDMap: m, Machine: machine})
	}
	return nil, fmt.Errorf("no free range of %d UIDs for machine %s", want.Size, machine)
}

// lockRangeDir creates userRangeDir if needed and locks it; closing the
// result unlocks it. A directory removed by a release while this waited
// for the lock is made anew.
func lockRangeDir() (*os.File, error) {
	for {
		if err := os.MkdirAll(userRangeDir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", userRangeDir, err)
		}
		d, err := os.Open(userRangeDir)
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(int(d.Fd()), unix.LOCK_EX); err != nil {
			d.Close()
			return nil, &os.PathError{Op: "flock", Path: userRangeDir, Err: err}
		}
		open, err1 := d.Stat()
		now, err2 := os.Stat(userRangeDir)
		if err1 == nil && err2 == nil && os.SameFile(open, now) {
			return d, nil
		}
		d.Close()
	}
}

// HeldRanges returns the ranges running machines hold. It takes no lock:
// for an early check before a start, which the reservation repeats.
func HeldRanges() ([]HeldRange, error) { return heldRanges(false) }

// heldRanges reads the reservations whose files are locked by a running
// container; with removeStale (under the directory's lock), it removes
// those of containers that ended without releasing theirs.
func heldRanges(removeStale bool) ([]HeldRange, error) {
	ents, err := os.ReadDir(userRangeDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var held []HeldRange
	for _, e := range ents {
		p := filepath.Join(userRangeDir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		text, _ := io.ReadAll(f)
		free := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == nil
		f.Close()
		h, ok := parseReservation(e.Name(), text)
		switch {
		case !ok:
		case !free:
			held = append(held, h)
		case removeStale:
			_ = os.Remove(p)
		}
	}
	return held, nil
}

// createRange writes and locks the reservation of h. The caller holds the
// directory's lock.
func createRange(h HeldRange) (*UserRange, error) {
	p := filepath.Join(userRangeDir, strconv.FormatUint(uint64(h.Base), 10))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("UID range %s is in use by another container", h.IDMap)
	}
	if _, err := f.WriteString(formatReservation(h)); err != nil {
		_ = os.Remove(p)
		f.Close()
		return nil, fmt.Errorf("write %s: %w", p, err)
	}
	return &UserRange{IDMap: h.IDMap, lock: f}, nil
}

// Release gives the range back.
func (r *UserRange) Release() {
	if r == nil || r.lock == nil {
		return
	}
	if dir, err := lockRangeDir(); err == nil {
		defer dir.Close()
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
