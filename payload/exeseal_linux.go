package payload

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// stageLowerDir is the empty second layer of the overlay that seals the
// stage binary (sealedOverlay): overlayfs mounts without an upper layer
// only with at least two lower ones.
var stageLowerDir = "/run/sockspawn/stage-lower"

// SealedSelf returns an executable of the running sockspawn that nothing
// can write through: the stage is executed from it so that a process in
// the container can never overwrite the host's sockspawn binary through
// /proc/PID/exe (CVE-2019-5736). It is the binary opened O_PATH in a
// detached read-only overlayfs without an upper layer, a file system with
// no way to write at all, whatever its mount flags become (no copy; about
// 0.3 ms here); where overlayfs or the new mount API is missing, a sealed
// memfd copy (F_SEAL_WRITE; copying 7 MB costs 2 to 4 ms here).
func SealedSelf() (*os.File, error) {
	if f, err := sealedOverlay(); err == nil {
		return f, nil
	}
	return sealedMemfd()
}

// sealedOverlay opens the running executable through a detached overlayfs
// whose top layer is the executable's directory.
func sealedOverlay() (*os.File, error) {
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	var want unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &want); err != nil {
		return nil, err
	}
	if err := lowerDir(stageLowerDir); err != nil {
		return nil, err
	}
	dir, name := filepath.Split(self)
	ctx, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("fsopen overlay", err)
	}
	defer unix.Close(ctx)
	// The executable's directory on top: a file of the same name in the
	// empty layer could never mask it. ':' and '\' are escaped for
	// overlayfs's list syntax.
	esc := strings.NewReplacer(`\`, `\\`, `:`, `\:`)
	lower := esc.Replace(dir) + ":" + esc.Replace(stageLowerDir)
	if err := unix.FsconfigSetString(ctx, "lowerdir", lower); err != nil {
		return nil, fmt.Errorf("overlayfs lowerdir=%s: %w", lower, err)
	}
	// Inode numbers do not matter here; without xino=off the kernel logs
	// a line when the layers are on different file systems.
	_ = unix.FsconfigSetString(ctx, "xino", "off")
	if err := unix.FsconfigCreate(ctx); err != nil {
		return nil, os.NewSyscallError("fsconfig create overlayfs", err)
	}
	mnt, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, os.NewSyscallError("fsmount overlayfs", err)
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s in overlayfs: %w", name, err)
	}
	// The same file, not one put in its place since /proc/self/exe was
	// read (overlayfs has inode numbers of its own: size and times).
	var got unix.Stat_t
	if err := unix.Fstat(fd, &got); err != nil || got.Size != want.Size || got.Mtim != want.Mtim || got.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%s in overlayfs is not the running executable", name)
	}
	return os.NewFile(uintptr(fd), "overlay:"+name), nil
}

// lowerDir makes sure path is a directory owned by root that only root
// can write to (nothing in it can mask the binary, but a lookup of a name
// missing from the top layer would land there).
func lowerDir(path string) error {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != 0 || st.Mode&0o022 != 0 {
		return fmt.Errorf("%s: not a directory that only root can write to", path)
	}
	return nil
}

// sealedMemfd returns a sealed memfd copy of the running executable.
func sealedMemfd() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("open own executable: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate(StageName, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	mem := os.NewFile(uintptr(fd), "memfd:sockspawn-stage")
	if err := copyInKernel(mem, src); err != nil {
		mem.Close()
		return nil, fmt.Errorf("copy own executable to memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, os.NewSyscallError("fcntl(F_ADD_SEALS)", err)
	}
	return mem, nil
}
