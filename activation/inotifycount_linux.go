package activation

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel keeps a count of inotify instances per user (ucounts), and
// fs.inotify.max_user_instances limits it, but it shows the count nowhere:
// /proc/sys/user/ has only the limits. So the count is made from the open
// files of every process, as the kernel charges them: an instance counts
// for the user that created it, in the creator's user namespace and, up
// the chain, for each namespace's owner; in this (the host's) namespace,
// for the owner of the top namespace below it.

// kcmpFile is KCMP_FILE of linux/kcmp.h.
const kcmpFile = 0

// inotifyFile is one open inotify instance as a process holds it.
type inotifyFile struct {
	pid, fd int
	uid     uint32 // the user it is charged to in this user namespace
}

// InotifyInstances counts the inotify instances open on the host, by the
// user each is charged to in sockspawn's own user namespace (the host's).
// An instance open in several processes (fork, SCM_RIGHTS) counts once,
// where kcmp(2) can tell; where it cannot, each counts, so the count errs
// on the high side. Processes that end during the count are skipped.
func InotifyInstances() (map[uint32]int, error) {
	self, err := nsInode("/proc/self/ns/user")
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	owners := map[uint64]uint32{} // user namespace inode -> charged uid
	var files []inotifyFile
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := "/proc/" + e.Name()
		fds, err := os.ReadDir(dir + "/fd")
		if err != nil {
			continue
		}
		var mine []int
		for _, f := range fds {
			if l, err := os.Readlink(dir + "/fd/" + f.Name()); err == nil && l == "anon_inode:inotify" {
				if fd, err := strconv.Atoi(f.Name()); err == nil {
					mine = append(mine, fd)
				}
			}
		}
		if len(mine) == 0 {
			continue
		}
		uid, ok := chargedUID(dir, self, owners)
		if !ok {
			continue
		}
		for _, fd := range mine {
			files = append(files, inotifyFile{pid: pid, fd: fd, uid: uid})
		}
	}
	return countDistinct(files), nil
}

// countDistinct counts files by uid, each open file once: sorted in the
// kernel's (obfuscated) order of file objects, copies of one are side by
// side.
func countDistinct(files []inotifyFile) map[uint32]int {
	ordered := true
	cmp := func(a, b inotifyFile) int {
		r, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(a.pid), uintptr(b.pid), kcmpFile, uintptr(a.fd), uintptr(b.fd), 0)
		if errno != 0 || r > 2 {
			ordered = false
			return 3
		}
		return int(r)
	}
	sort.SliceStable(files, func(i, j int) bool { return ordered && cmp(files[i], files[j]) == 1 })
	n := map[uint32]int{}
	for i, f := range files {
		if i > 0 && ordered && cmp(files[i-1], f) == 0 {
			continue
		}
		n[f.uid]++
	}
	return n
}

// chargedUID is the user that what the process dir creates is charged to
// in the user namespace self: its effective UID there, or for a process
// in a namespace below, the owner of the topmost namespace below self.
func chargedUID(dir string, self uint64, owners map[uint64]uint32) (uint32, bool) {
	ns, err := nsInode(dir + "/ns/user")
	if err != nil {
		return 0, false
	}
	if ns == self {
		return effectiveUID(dir)
	}
	if uid, ok := owners[ns]; ok {
		return uid, true
	}
	fd, err := unix.Open(dir+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer func() { unix.Close(fd) }()
	// Up the chain until the parent is self.
	for {
		p, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
		if err != nil {
			return 0, false // not below self
		}
		var st unix.Stat_t
		if err := unix.Fstat(p, &st); err != nil {
			unix.Close(p)
			return 0, false
		}
		if st.Ino == self {
			unix.Close(p)
			break
		}
		unix.Close(fd)
		fd = p
	}
	uid, err := UserNSOwner(fd)
	if err != nil {
		return 0, false
	}
	owners[ns] = uid
	return uid, true
}

// UserNSOwner returns the host UID that owns the user namespace open at
// fd (as /proc/PID/ns/user), the one the kernel charges its counts to.
func UserNSOwner(fd int) (uint32, error) {
	var uid uint32
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.NS_GET_OWNER_UID, uintptr(unsafe.Pointer(&uid))); errno != 0 {
		return 0, fmt.Errorf("ioctl(NS_GET_OWNER_UID): %w", errno)
	}
	return uid, nil
}

// effectiveUID reads the effective UID from dir/status.
func effectiveUID(dir string) (uint32, bool) {
	b, err := os.ReadFile(dir + "/status")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Uid:"); ok {
			f := strings.Fields(v)
			if len(f) < 2 {
				return 0, false
			}
			n, err := strconv.ParseUint(f[1], 10, 32)
			return uint32(n), err == nil
		}
	}
	return 0, false
}

// RootInotifyBudget is root's share of inotify instances now: the limit
// (fs.inotify.max_user_instances) and the instances charged to root.
func RootInotifyBudget() (InotifyBudget, error) {
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_user_instances")
	if err != nil {
		return InotifyBudget{}, err
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return InotifyBudget{}, fmt.Errorf("%s: %w", InotifySysctl, err)
	}
	n, err := InotifyInstances()
	if err != nil {
		return InotifyBudget{}, fmt.Errorf("count inotify instances: %w", err)
	}
	return InotifyBudget{Limit: limit, Used: n[0]}, nil
}
