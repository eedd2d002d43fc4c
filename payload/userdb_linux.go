package payload

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// UserNSHoldCommand is the hidden subcommand of a process that only holds
// a user namespace made for an idmapped mount, until its stdin closes.
const UserNSHoldCommand = "__userns-hold"

// UserNSHoldMain is UserNSHoldCommand: wait for the end of stdin.
func UserNSHoldMain() int {
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// writeUserDB fills /run/host/userdb (dir is /run/host, still writable)
// with the bound users' records.
func writeUserDB(dir *os.File, files []File, links []Symlink) error {
	if len(files) == 0 {
		return nil
	}
	if err := unix.Mkdirat(int(dir.Fd()), "userdb", 0o755); err != nil {
		return &os.PathError{Op: "mkdir", Path: UserDBDir, Err: err}
	}
	fd, err := unix.Openat(int(dir.Fd()), "userdb", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: UserDBDir, Err: err}
	}
	db := os.NewFile(uintptr(fd), UserDBDir)
	defer db.Close()
	for _, f := range files {
		mode := uint32(0o644)
		if strings.HasSuffix(f.Name, PrivilegedSuffix) {
			mode = 0o600
		}
		if err := writeFileAt(db, f.Name, f.Data, mode); err != nil {
			return err
		}
	}
	for _, l := range links {
		if err := unix.Symlinkat(l.Target, fd, l.Path); err != nil {
			return &os.PathError{Op: "symlink", Path: path.Join(UserDBDir, l.Path), Err: err}
		}
	}
	return nil
}

// userHomeTree returns a detached copy of the home directory home,
// idmapped so that m.HostUID and m.HostGID on disk show as m.UID and
// m.GID (the bound user's IDs in the container, as the host numbers
// them), and back for what the user creates. The mapping lives in a user
// namespace made for it, held by a short-lived process of our own.
func userHomeTree(home string, m HomeMap) (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, home, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return nil, &os.PathError{Op: "open_tree", Path: home, Err: err}
	}
	tree := os.NewFile(uintptr(fd), home)
	userns, err := mappedUserNS(m)
	if err != nil {
		tree.Close()
		return nil, err
	}
	defer userns.Close()
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		tree.Close()
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) {
			var st unix.Statfs_t
			_ = unix.Fstatfs(fd, &st)
			return nil, fmt.Errorf("home %s cannot be idmapped (file system type 0x%x): %w; the user's files could not be mapped to the container's UID %d, so the user is not bound", home, st.Type, err, m.UID)
		}
		return nil, &os.PathError{Op: "mount_setattr(MOUNT_ATTR_IDMAP)", Path: home, Err: err}
	}
	return tree, nil
}

// mappedUserNS makes a user namespace that maps exactly m and returns an
// fd of it. An idmapped mount reads an ID on disk as one inside its user
// namespace, and shows what that maps to outside: so UID m.HostUID inside
// is m.UID outside (the same for GIDs). A process of our own is started in it, because only a process can
// make one without cgo, and ends once the fd is open.
func mappedUserNS(m HomeMap) (*os.File, error) {
	cmd := exec.Command("/proc/self/exe", UserNSHoldCommand)
	cmd.Args[0] = "sockspawn-userns"
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: int(m.HostUID), HostID: int(m.UID), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: int(m.HostGID), HostID: int(m.GID), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		stdin.Close()
		return nil, fmt.Errorf("start a process for the user namespace of an idmapped home: %w", err)
	}
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid))
	stdin.Close()
	_ = cmd.Wait()
	if err != nil {
		return nil, fmt.Errorf("open the user namespace of an idmapped home: %w", err)
	}
	return ns, nil
}
