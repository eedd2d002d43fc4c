//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	Point  string
	Opts   []string // per-mount options (rw/ro, nosuid, …)
	FSType string
	Source string
	// Shared is whether the mount is in a peer group ("shared:N").
	Shared bool
}

func readMountinfo(p string) ([]mountEntry, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if len(fields) < 7 || sep < 6 || sep+2 >= len(fields) {
			return nil, fmt.Errorf("%s: malformed line %q", p, sc.Text())
		}
		e := mountEntry{
			Point:  unescapeMount(fields[4]),
			Opts:   strings.Split(fields[5], ","),
			FSType: fields[sep+1],
			Source: unescapeMount(fields[sep+2]),
		}
		for _, tag := range fields[6:sep] {
			e.Shared = e.Shared || strings.HasPrefix(tag, "shared:")
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// unescapeMount undoes the octal escapes (\040 …) of mountinfo.
func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountAt returns the topmost mount on p (the last one listed).
func mountAt(mi []mountEntry, p string) (mountEntry, bool) {
	for i := len(mi) - 1; i >= 0; i-- {
		if mi[i].Point == p {
			return mi[i], true
		}
	}
	return mountEntry{}, false
}

func isMountPoint(mi []mountEntry, p string) bool {
	_, ok := mountAt(mi, p)
	return ok
}

// apiMounts are the file systems the Container Interface and issue 2 ask
// for, with whether each must be read-only to the container.
var apiMounts = []struct {
	Path, FSType string
	ReadOnly     bool
}{
	{"/proc", "proc", false},
	{"/proc/sys", "proc", true},
	{"/sys", "sysfs", true},
	{"/sys/fs/cgroup", "cgroup2", false},
	{"/dev", "tmpfs", false},
	{"/dev/pts", "devpts", false},
	{"/dev/shm", "tmpfs", false},
	{"/dev/mqueue", "mqueue", false},
	{"/run", "tmpfs", false},
	{"/tmp", "tmpfs", false},
	{"/run/host", "tmpfs", true},
}

func checkMounts(r *report, mi []mountEntry) {
	for _, want := range apiMounts {
		r.check("mount:"+want.Path, checkMount(mi, want.Path, want.FSType, want.ReadOnly))
	}
	if m, ok := mountAt(mi, "/sys/fs/selinux"); ok {
		r.check("mount:/sys/fs/selinux", checkMount(mi, m.Point, m.FSType, true))
	}
	// What systemd looks at is statvfs's ST_RDONLY; a write must fail too.
	r.check("write:/proc/sys", wantEROFS(func() error {
		fd, err := unix.Open("/proc/sys/kernel/hostname", unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	}))
	r.check("propagation", checkPropagation(mi))
	r.check("write:/sys", wantEROFS(func() error { return unix.Mkdir("/sys/e2e-probe", 0o755) }))
	r.check("write:/run/host", wantEROFS(func() error {
		fd, err := unix.Open("/run/host/e2e-probe", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(fd)
			_ = unix.Unlink("/run/host/e2e-probe")
		}
		return err
	}))
}

// checkPropagation checks that the root and the API file systems are
// shared within the container, as systemd expects of its container manager:
// otherwise what PID 1 mounts (such as a service's credentials) does not
// reach the namespaces of its services. /run/host/incoming, where it
// exists, must not be shared: machined moves mounts out of it, which the
// kernel refuses from a shared mount. (It is a slave of the host's runtime
// directory where that is shared, as on every systemd host; where the
// host's mounts are private, so is it.)
func checkPropagation(mi []mountEntry) error {
	var bad []string
	for _, p := range append([]string{"/"}, apiMountPaths()...) {
		if m, ok := mountAt(mi, p); ok && !m.Shared {
			bad = append(bad, p+" is not shared")
		}
	}
	if m, ok := mountAt(mi, "/run/host/incoming"); ok && m.Shared {
		bad = append(bad, "/run/host/incoming is shared; want a slave or private mount")
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func apiMountPaths() []string {
	var ps []string
	for _, m := range apiMounts {
		ps = append(ps, m.Path)
	}
	return ps
}

// checkMount checks that p is a mount point of type fstype, read-only in
// both the mount flags and statfs when ro.
func checkMount(mi []mountEntry, p, fstype string, ro bool) error {
	m, ok := mountAt(mi, p)
	if !ok {
		return fmt.Errorf("%s is not a mount point", p)
	}
	if m.FSType != fstype {
		return fmt.Errorf("%s is %s (source %s), want %s", p, m.FSType, m.Source, fstype)
	}
	if !ro {
		return nil
	}
	if !slices.Contains(m.Opts, "ro") {
		return fmt.Errorf("%s is mounted %s, want ro", p, strings.Join(m.Opts, ","))
	}
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", p, err)
	}
	if st.Flags&unix.ST_RDONLY == 0 {
		return fmt.Errorf("statfs(%s) has no ST_RDONLY", p)
	}
	return nil
}

func wantEROFS(f func() error) error {
	err := f()
	switch {
	case err == nil:
		return errors.New("write succeeded")
	case errors.Is(err, unix.EROFS):
		return nil
	}
	return fmt.Errorf("got %v, want EROFS", err)
}

// checkCgroup checks that cgroup2 is at /sys/fs/cgroup and that PID 1's
// cgroup, as /proc/1/cgroup names it, exists there and holds PID 1.
func checkCgroup(r *report) {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		r.fail("cgroup2", "statfs /sys/fs/cgroup: %v", err)
	} else if st.Type != unix.CGROUP2_SUPER_MAGIC {
		r.fail("cgroup2", "/sys/fs/cgroup has file system magic %#x, want cgroup2 (%#x)", st.Type, unix.CGROUP2_SUPER_MAGIC)
	} else {
		r.ok("cgroup2")
	}
	b, err := os.ReadFile("/proc/1/cgroup")
	if err != nil {
		r.fail("cgroup-consistent", "%v", err)
		return
	}
	var cg string
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			cg = p
		}
	}
	if cg == "" {
		r.fail("cgroup-consistent", "no 0:: line in /proc/1/cgroup: %q", b)
		return
	}
	dir := path.Join("/sys/fs/cgroup", cg)
	if !path.IsAbs(cg) || strings.Contains(cg, "/..") {
		r.fail("cgroup-consistent", "/proc/1/cgroup names %q, outside the container's cgroup namespace", cg)
		return
	}
	procs, err := os.ReadFile(path.Join(dir, "cgroup.procs"))
	if err != nil {
		r.fail("cgroup-consistent", "/proc/1/cgroup names %q but %v", cg, err)
		return
	}
	if !slices.Contains(strings.Fields(string(procs)), "1") {
		r.fail("cgroup-consistent", "%s/cgroup.procs does not list pid 1: %q", dir, procs)
		return
	}
	info("cgroup of pid 1: %s", cg)
	r.ok("cgroup-consistent")
}
