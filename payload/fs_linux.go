package payload

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// This file holds the few helpers through which the stage touches paths
// inside the root it builds. Every lookup goes through openat2 with
// RESOLVE_IN_ROOT, so ".." and absolute symlinks in an image stay inside
// the image.

// openIn opens rel (an absolute container path) inside root with flags,
// resolving every component inside root.
func openIn(root, rel string, flags uint64) (*os.File, error) {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rfd)
	return openAt(rfd, root, rel, flags)
}

func openAt(rfd int, root, rel string, flags uint64) (*os.File, error) {
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	if rel == "" {
		rel = "."
	}
	how := unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(rfd, rel, &how)
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: path.Join(root, rel), Err: err}
	}
	return os.NewFile(uintptr(fd), path.Join(root, rel)), nil
}

// procPath names an open file by its /proc/self/fd magic link, the only
// way to hand an already-resolved path to mount(2).
func procPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

// mkdirAllIn creates the directory rel and its parents inside root,
// resolving every component inside root. It fails if a component exists
// and is not a directory.
func mkdirAllIn(root, rel string, mode uint32) error {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rfd)
	cur := ""
	for _, c := range strings.Split(strings.Trim(path.Clean("/"+rel), "/"), "/") {
		if c == "" {
			continue
		}
		parent, err := openAt(rfd, root, cur, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return fmt.Errorf("mkdir %s: %w", path.Join("/", cur, c), err)
		}
		err = unix.Mkdirat(int(parent.Fd()), c, mode)
		parent.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "mkdir", Path: path.Join(root, cur, c), Err: err}
		}
		cur = path.Join(cur, c)
		// A symlink or a file in the way: make sure it resolves to a directory inside root.
		d, err := openAt(rfd, root, cur, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return fmt.Errorf("%s is not a directory inside the image: %w", path.Join("/", cur), err)
		}
		d.Close()
	}
	return nil
}

// createFileIn makes sure rel exists inside root as a file (any non-directory
// type), creating an empty regular file if it is missing.
func createFileIn(root, rel string, mode uint32) error {
	if err := mkdirAllIn(root, path.Dir(rel), 0o755); err != nil {
		return err
	}
	parent, err := openIn(root, path.Dir(rel), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), path.Base(rel), unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENXIO) || errors.Is(err, unix.EACCES) {
		// It exists and is a symlink, a directory or a special file:
		// check what it resolves to inside the root.
		f, err2 := openIn(root, rel, unix.O_PATH)
		if err2 != nil {
			return err2
		}
		defer f.Close()
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			return &os.PathError{Op: "fstat", Path: path.Join(root, rel), Err: err}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return fmt.Errorf("%s is a directory, not a file", rel)
		}
		return nil
	}
	if err != nil {
		return &os.PathError{Op: "create", Path: path.Join(root, rel), Err: err}
	}
	return unix.Close(fd)
}

// writeFileIn writes data to the new file rel (below the directory dir,
// which is already resolved and trusted) with mode.
func writeFileAt(dir *os.File, name string, data []byte, mode uint32) error {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil {
		return &os.PathError{Op: "create", Path: path.Join(dir.Name(), name), Err: err}
	}
	f := os.NewFile(uintptr(fd), path.Join(dir.Name(), name))
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return unix.Fchmod(fd, mode)
}

// mount wraps mount(2) with an error naming the operation and the target.
func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return &os.PathError{Op: "mount " + fstype, Path: target, Err: err}
	}
	return nil
}

// makeReadOnly makes the mount on f (and with recursive, every mount below
// it) read-only.
func makeReadOnly(f *os.File, recursive bool) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(int(f.Fd()), "", flags, &attr); err != nil {
		return &os.PathError{Op: "mount_setattr(MOUNT_ATTR_RDONLY)", Path: f.Name(), Err: err}
	}
	return nil
}
