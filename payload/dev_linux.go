package payload

import (
	"errors"
	"fmt"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// makeDev creates the device nodes and symlinks of the container's /dev
// (already a private tmpfs). A node is created with mknod and then checked:
// reopened without following links, it must be the character device asked
// for. In a user namespace, where mknod is not allowed, the host's node is
// bound onto an empty file instead, and /dev/ptmx is a link to pts/ptmx.
func makeDev(root string, devs []Device, links []Symlink, userns bool) error {
	for _, d := range devs {
		p := path.Join("/dev", d.Name)
		if userns {
			if d.Name == "ptmx" {
				links = append(links, Symlink{Path: p, Target: "pts/ptmx"})
				continue
			}
			m := Mount{Target: p, Source: p, SourceIn: SourceHost, File: true, Optional: d.Name == "net/tun"}
			if err := doMount(&Plan{Root: root}, m); err != nil {
				return fmt.Errorf("bind %s: %w", p, err)
			}
			continue
		}
		if err := mkdirAllIn(root, path.Dir(p), 0o755); err != nil {
			return err
		}
		dir, err := openIn(root, path.Dir(p), unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		err = unix.Mknodat(int(dir.Fd()), path.Base(p), unix.S_IFCHR|d.Mode, int(unix.Mkdev(d.Major, d.Minor)))
		dir.Close()
		if err != nil {
			return &os.PathError{Op: "mknod", Path: p, Err: err}
		}
		if err := checkDevice(root, p, d); err != nil {
			return err
		}
	}
	for _, l := range links {
		if err := symlinkIn(root, l); err != nil {
			return err
		}
	}
	return nil
}

func checkDevice(root, p string, d Device) error {
	f, err := openIn(root, p, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return &os.PathError{Op: "fstat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != d.Major || unix.Minor(st.Rdev) != d.Minor {
		return fmt.Errorf("%s is not the character device %d:%d", p, d.Major, d.Minor)
	}
	return nil
}

// symlinkIn creates the symlink l inside root; an existing entry is left
// alone.
func symlinkIn(root string, l Symlink) error {
	if err := mkdirAllIn(root, path.Dir(l.Path), 0o755); err != nil {
		return err
	}
	dir, err := openIn(root, path.Dir(l.Path), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer dir.Close()
	if l.Replace {
		if err := unix.Unlinkat(int(dir.Fd()), path.Base(l.Path), 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return &os.PathError{Op: "unlink", Path: l.Path, Err: err}
		}
	}
	if err := unix.Symlinkat(l.Target, int(dir.Fd()), path.Base(l.Path)); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "symlink", Path: l.Path, Err: err}
	}
	return nil
}
