package payload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// MountUnixExport makes dir (UnixExportPath) a fresh tmpfs whose root
// directory the container's root (uid and gid, as the host numbers them)
// owns, mounted read-only on the host: the container gets a writable bind
// of it. A leftover of an earlier run of the same machine (a sockspawn
// killed with SIGKILL) is removed first, so that stale sockets never reach
// the next boot; the caller holds the machine's lock. remove takes the
// mount and the directory away again.
func MountUnixExport(dir string, uid, gid uint32) (remove func() error, err error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := RemoveUnixExport(dir); err != nil {
		return nil, fmt.Errorf("remove leftover %s: %w", dir, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create unix-export directory: %w", err)
	}
	remove = func() error { return RemoveUnixExport(dir) }
	if err := mountUnixExportFS(dir, uid, gid); err != nil {
		_ = remove()
		return nil, err
	}
	return remove, nil
}

// mountUnixExportFS mounts the tmpfs with the new mount API, read-only
// from the moment it appears on the host.
func mountUnixExportFS(dir string, uid, gid uint32) error {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("fsopen(tmpfs)", err)
	}
	defer unix.Close(fsfd)
	for _, kv := range [][2]string{
		{"mode", "0755"},
		{"uid", fmt.Sprint(uid)},
		{"gid", fmt.Sprint(gid)},
		{"size", "4m"},
		{"nr_inodes", "4096"},
	} {
		if err := unix.FsconfigSetString(fsfd, kv[0], kv[1]); err != nil {
			return fmt.Errorf("fsconfig(tmpfs, %s=%s): %w", kv[0], kv[1], err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return os.NewSyscallError("fsconfig(tmpfs, FSCONFIG_CMD_CREATE)", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return os.NewSyscallError("fsmount(tmpfs)", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return &os.PathError{Op: "move_mount", Path: dir, Err: err}
	}
	return nil
}

// RemoveUnixExport detaches whatever is mounted on dir and removes it. A
// missing dir is not an error.
func RemoveUnixExport(dir string) error {
	for i := 0; i < 16; i++ { // a mount stacked by hand on top, at worst
		err := unix.Unmount(dir, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			break // not (or no longer) a mount point
		}
		if err != nil {
			return &os.PathError{Op: "umount", Path: dir, Err: err}
		}
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "rmdir", Path: dir, Err: err}
	}
	return nil
}
