package payload

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LiveBind is one `sockspawn bind` into a running container.
type LiveBind struct {
	Target   string // inside the container, checked by CheckLiveBindTarget
	ReadOnly bool   // make the tree read-only (recursively) first
	MkDir    bool   // create the target (a directory, or a file for a file) if missing
	// Replace is the mount ID of an earlier live bind on the same target,
	// or 0: if that mount is still what the target shows, it is taken
	// away before the new one goes there.
	Replace uint64
}

// AttachLive puts tree (a detached mount: open_tree(OPEN_TREE_CLONE) of a
// host path) at b.Target in the mount namespace of the process pidfd (the
// container's init) with move_mount, and returns the new mount's ID.
//
// It runs on a thread of its own that leaves the host's mount namespace
// for the container's (after unshare(CLONE_FS), so that no other thread
// follows) and dies afterwards. Nothing runs in the container's pid
// namespace. The target is resolved there with openat2(RESOLVE_IN_ROOT)
// from the container's root: its symlinks are followed inside the
// container and never reach the host.
func AttachLive(pidfd int, tree *os.File, b LiveBind) (uint64, error) {
	if err := CheckLiveBindTarget(b.Target); err != nil {
		return 0, err
	}
	type result struct {
		id  uint64
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Locked and never unlocked: the runtime ends the thread with
		// the goroutine, so its namespace goes nowhere else.
		runtime.LockOSThread()
		id, err := attachLive(pidfd, tree, b)
		done <- result{id, err}
	}()
	r := <-done
	return r.id, r.err
}

func attachLive(pidfd int, tree *os.File, b LiveBind) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(tree.Fd()), &st); err != nil {
		return 0, os.NewSyscallError("fstat(source tree)", err)
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if b.ReadOnly {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(int(tree.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return 0, os.NewSyscallError("mount_setattr(MOUNT_ATTR_RDONLY)", err)
		}
	}
	// In a user namespace, what the thread creates in the container
	// (--mkdir) belongs to the container's root, which the namespace
	// maps; host root is not mapped there at all.
	owner, err := containerRoot(pidfd)
	if err != nil {
		return 0, err
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return 0, os.NewSyscallError("unshare(CLONE_FS)", err)
	}
	if owner != 0 {
		// Per thread: setfsuid(2) and setfsgid(2) are raw system calls.
		unix.Setfsgid(int(owner))
		unix.Setfsuid(int(owner))
	}
	if err := unix.Setns(pidfd, unix.CLONE_NEWNS); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return 0, errors.New("the container's init is gone")
		}
		return 0, os.NewSyscallError("setns(CLONE_NEWNS) into the container", err)
	}
	// From here on "/" is the container's root, for this thread only.
	const root = "/"
	target := path.Clean(b.Target)
	if b.MkDir {
		var err error
		if isDir {
			err = mkdirAllIn(root, target, 0o755)
		} else {
			err = createFileIn(root, target, 0o644)
		}
		if err != nil {
			return 0, fmt.Errorf("create target %s in the container: %w", target, err)
		}
	}
	dst, err := openIn(root, target, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) {
		return 0, fmt.Errorf("target %s does not exist in the container (a symbolic link on the way is resolved inside it); --mkdir creates it", target)
	}
	if err != nil {
		return 0, fmt.Errorf("target %s: %w", target, err)
	}
	defer dst.Close()
	if err := unix.Fstat(int(dst.Fd()), &st); err != nil {
		return 0, os.NewSyscallError("fstat(target)", err)
	}
	if dstDir := st.Mode&unix.S_IFMT == unix.S_IFDIR; dstDir != isDir {
		kind := map[bool]string{true: "a directory", false: "not a directory"}
		return 0, fmt.Errorf("target %s is %s, the source is %s", target, kind[dstDir], kind[isDir])
	}
	if b.Replace != 0 {
		if dst, err = replaceLive(root, target, dst, b.Replace); err != nil {
			return 0, err
		}
		defer dst.Close()
	}
	if err := unix.MoveMount(int(tree.Fd()), "", int(dst.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return 0, &os.PathError{Op: "move_mount", Path: target, Err: err}
	}
	now, err := openIn(root, target, unix.O_PATH)
	if err != nil {
		return 0, fmt.Errorf("target %s after the bind: %w", target, err)
	}
	defer now.Close()
	id, _, err := mountID(now)
	return id, err
}

// replaceLive takes the earlier live bind (mount ID old) off target if it
// is still the topmost mount there, and returns target opened again.
func replaceLive(root, target string, dst *os.File, old uint64) (*os.File, error) {
	id, isRoot, err := mountID(dst)
	if err != nil || id != old || !isRoot {
		// Gone already, or something else covers it: the new bind goes
		// on top, as a first one would.
		return openIn(root, target, unix.O_PATH)
	}
	parent, err := openIn(root, path.Dir(target), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, fmt.Errorf("replace the bind on %s: %w", target, err)
	}
	defer parent.Close()
	// umount(2) takes a path only: relative to the parent, which this
	// thread's own working directory becomes.
	if err := unix.Fchdir(int(parent.Fd())); err != nil {
		return nil, os.NewSyscallError("fchdir", err)
	}
	if err := unix.Unmount(path.Base(target), unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil {
		return nil, &os.PathError{Op: "umount the earlier bind", Path: target, Err: err}
	}
	return openIn(root, target, unix.O_PATH)
}

// mountID returns the ID of the mount f is on (unique for the system's
// uptime where the kernel has STATX_MNT_ID_UNIQUE, 6.8 and later), and
// whether f is that mount's root.
func mountID(f *os.File) (uint64, bool, error) {
	var stx unix.Statx_t
	for _, mask := range []int{unix.STATX_MNT_ID_UNIQUE, unix.STATX_MNT_ID} {
		if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH, mask, &stx); err != nil {
			return 0, false, os.NewSyscallError("statx", err)
		}
		if stx.Mask&uint32(mask) != 0 {
			return stx.Mnt_id, stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
		}
	}
	return 0, false, errors.New("statx: the kernel reports no mount ID")
}

// containerRoot returns the host UID that root in the user namespace of
// the process pidfd maps to (0 without a user namespace of its own).
func containerRoot(pidfd int) (uint32, error) {
	pid, err := pidfdPid(pidfd)
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/uid_map")
	if err != nil {
		return 0, fmt.Errorf("the container's user namespace: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 3 && fs[0] == "0" {
			host, err := strconv.ParseUint(fs[1], 10, 32)
			if err != nil {
				break
			}
			return uint32(host), nil
		}
	}
	return 0, fmt.Errorf("the container's user namespace maps no root")
}

// pidfdPid reads the pid of the process behind pidfd from its fdinfo.
func pidfdPid(pidfd int) (int, error) {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(pidfd))
	if err != nil {
		return 0, fmt.Errorf("the container's init: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || pid <= 0 {
				return 0, errors.New("the container's init is gone")
			}
			return pid, nil
		}
	}
	return 0, fmt.Errorf("fd %d is not a pidfd", pidfd)
}
