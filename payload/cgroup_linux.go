package payload

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Cgroup is the container's place in the cgroup2 hierarchy.
//
// Under a unit with Delegate=yes (systemd marks such cgroups with the
// trusted.delegate xattr), the unit's cgroup is ours: the supervisor moves
// itself into its "supervisor" child and the container starts in the
// "payload" child. Elsewhere, the container gets a child of the
// supervisor's current cgroup and the supervisor says so once.
type Cgroup struct {
	Mount      string // where cgroup2 is mounted on the host
	Own        string // the supervisor's cgroup when it started, relative to Mount
	Payload    string // the container's cgroup, relative to Mount
	Supervisor string // the supervisor's child cgroup when delegated, else ""
	Delegated  bool
	dir        *os.File
	detached   *os.File      // a private cgroup2 mount on a host without one
	v1         []V1Hierarchy // v1 hierarchies the supervisor entered
	v1Dirs     []string      // the container's cgroups in them
}

// UnifiedMount finds the cgroup2 hierarchy: /sys/fs/cgroup on a pure
// cgroup2 host, /sys/fs/cgroup/unified on a hybrid one.
func UnifiedMount() (string, error) {
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p, nil
		}
	}
	return "", fmt.Errorf("no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified")
}

// procLines splits the text of a /proc file into its lines, at "\n" only:
// the kernel ends lines with nothing else, and a "\r" (which
// bufio.ScanLines would drop at a line's end) can be part of a cgroup's
// name.
func procLines(b []byte) []string {
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// OwnCgroup returns the cgroup2 path ("0::" line) of /proc/self/cgroup.
func OwnCgroup(procSelfCgroup []byte) (string, error) {
	for _, line := range procLines(procSelfCgroup) {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			// A path with ".." lies outside our cgroup namespace's root:
			// not a cgroup we may touch.
			if !path.IsAbs(p) || p == "/.." || strings.HasPrefix(p, "/../") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
				return "", fmt.Errorf("unexpected cgroup path %q (outside our cgroup namespace?)", p)
			}
			return path.Clean(p), nil
		}
	}
	return "", fmt.Errorf("no cgroup2 entry in /proc/self/cgroup")
}

// PayloadCgroup decides, without touching anything, where the container
// and the supervisor go: see Cgroup.
func PayloadCgroup(own, machine string, delegated bool) (payloadCG, supervisorCG string) {
	if delegated {
		return path.Join(own, "payload"), path.Join(own, "supervisor")
	}
	return path.Join(own, "sockspawn-"+machine), ""
}

// SetupCgroup creates the container's cgroup (and, when delegated, moves
// the supervisor into its own child). warn is told once when the
// supervisor is not in a delegated cgroup.
func SetupCgroup(machine string, warn func(string)) (*Cgroup, error) {
	var detached *os.File
	mnt, err := UnifiedMount()
	if err != nil {
		// A host with cgroup v1 alone: the cgroup2 hierarchy exists all
		// the same, unmounted. A detached mount of it (fsmount: nothing
		// appears in any mount table) lets the container start in a
		// cgroup2 cgroup of its own, where its device program applies and
		// where its cgroup namespace is rooted.
		if detached, err = detachedCgroup2(); err != nil {
			return nil, err
		}
		mnt = "/proc/self/fd/" + strconv.Itoa(int(detached.Fd()))
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	own, err := OwnCgroup(b)
	if err != nil {
		return nil, err
	}
	c := &Cgroup{Mount: mnt, Own: own, Delegated: isDelegated(path.Join(mnt, own)), detached: detached}
	c.Payload, c.Supervisor = PayloadCgroup(own, machine, c.Delegated)
	if !c.Delegated && warn != nil {
		warn(fmt.Sprintf("not in a delegated cgroup (no unit with Delegate=yes); the container runs in %s", c.Payload))
	}
	if c.Supervisor != "" {
		if err := mkdirCgroup(path.Join(mnt, c.Supervisor)); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path.Join(mnt, c.Supervisor, "cgroup.procs"), []byte("0"), 0); err != nil {
			_ = os.Remove(path.Join(mnt, c.Supervisor))
			return nil, fmt.Errorf("move supervisor into %s: %w", c.Supervisor, err)
		}
	}
	if err := mkdirCgroup(path.Join(mnt, c.Payload)); err != nil {
		c.Remove()
		return nil, err
	}
	if c.Delegated {
		// The unit's cgroup has no processes left in it: hand the
		// controllers it has down to the container, so that systemd
		// inside can use them for its own units.
		enableControllers(path.Join(mnt, own))
	}
	if err := c.makeV1(strings.TrimPrefix(c.Payload, own)); err != nil {
		c.Remove()
		return nil, err
	}
	fd, err := unix.Open(path.Join(mnt, c.Payload), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.Remove()
		return nil, &os.PathError{Op: "open", Path: path.Join(mnt, c.Payload), Err: err}
	}
	c.dir = os.NewFile(uintptr(fd), path.Join(mnt, c.Payload))
	return c, nil
}

// mkdirCgroup creates a cgroup; an existing one is reused only if no
// process is in it (a leftover of a supervisor that was killed).
func mkdirCgroup(p string) error {
	err := os.Mkdir(p, 0o755)
	if errors.Is(err, os.ErrExist) {
		if populated(p) {
			return fmt.Errorf("cgroup %s is in use: is the machine already running?", p)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("create cgroup: %w", err)
	}
	return nil
}

func populated(p string) bool {
	b, err := os.ReadFile(path.Join(p, "cgroup.events"))
	return err == nil && bytes.Contains(b, []byte("populated 1"))
}

// detachedCgroup2 mounts the cgroup2 hierarchy without attaching it
// anywhere and returns the mount's fd.
func detachedCgroup2() (*os.File, error) {
	fsfd, err := unix.Fsopen("cgroup2", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("no cgroup2 hierarchy mounted, and fsopen(cgroup2) failed: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, os.NewSyscallError("fsconfig(cgroup2, FSCONFIG_CMD_CREATE)", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("fsmount(cgroup2)", err)
	}
	return os.NewFile(uintptr(mfd), "cgroup2"), nil
}

// DevicesV1 is the container's cgroup in the v1 devices hierarchy, or ""
// when the host has none (or it is read-only).
func (c *Cgroup) DevicesV1() string {
	for _, d := range c.v1Dirs {
		if fileExists(path.Join(d, "devices.allow")) {
			return d
		}
	}
	return ""
}

// enableControllers enables in dir's subtree every controller dir has.
// Best effort: a controller that cannot be enabled is left out.
func enableControllers(dir string) {
	b, err := os.ReadFile(path.Join(dir, "cgroup.controllers"))
	if err != nil {
		return
	}
	for _, c := range strings.Fields(string(b)) {
		_ = os.WriteFile(path.Join(dir, "cgroup.subtree_control"), []byte("+"+c), 0)
	}
}

// CurrentDelegated reports whether the calling process runs in a cgroup
// that systemd delegated (a unit with Delegate=yes).
func CurrentDelegated() bool {
	mnt, err := UnifiedMount()
	if err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return false
	}
	own, err := OwnCgroup(b)
	return err == nil && isDelegated(path.Join(mnt, own))
}

func isDelegated(p string) bool {
	for _, attr := range []string{"trusted.delegate", "user.delegate"} {
		buf := make([]byte, 8)
		n, err := unix.Getxattr(p, attr, buf)
		if err == nil && string(buf[:n]) == "1" {
			return true
		}
	}
	return false
}

// FD is the open cgroup directory, for clone3(CLONE_INTO_CGROUP); -1 if none.
func (c *Cgroup) FD() int {
	if c == nil || c.dir == nil {
		return -1
	}
	return int(c.dir.Fd())
}

// Remove deletes the payload cgroup with everything the container created
// below it, and moves the supervisor back out of its child. It waits a
// little for the kernel to empty cgroups of processes that just died.
func (c *Cgroup) Remove() error {
	if c == nil {
		return nil
	}
	if c.dir != nil {
		c.dir.Close()
		c.dir = nil
	}
	var errs []error
	if err := removeTree(path.Join(c.Mount, c.Payload)); err != nil {
		errs = append(errs, err)
	}
	for _, d := range c.v1Dirs {
		if err := removeTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Supervisor != "" {
		_ = os.WriteFile(path.Join(c.Mount, c.Own, "cgroup.procs"), []byte("0"), 0)
		if err := removeTree(path.Join(c.Mount, c.Supervisor)); err != nil {
			errs = append(errs, err)
		}
	}
	if c.detached != nil {
		c.detached.Close()
		c.detached = nil
	}
	return errors.Join(errs...)
}

// removeTree removes a cgroup and its children, depth first.
func removeTree(p string) error {
	// Most often it is empty by now: one rmdir, no listing.
	if err := unix.Rmdir(p); err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	entries, err := os.ReadDir(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeTree(path.Join(p, e.Name())); err != nil {
				return err
			}
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := unix.Rmdir(p)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return &os.PathError{Op: "remove cgroup", Path: p, Err: err}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// HandTo gives the container's cgroup to the container's root (host UID
// and GID uid), so that its init can create and manage its own subtree
// from inside a user namespace.
func (c *Cgroup) HandTo(uid int) error {
	return chownCgroup(path.Join(c.Mount, c.Payload), uid, uid)
}
