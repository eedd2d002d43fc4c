package payload

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// On a hybrid host the controllers live in cgroup v1 hierarchies next to
// the unified one. A cgroup namespace covers them too, rooted wherever the
// process is in each: left at the host's root, root inside could mount a
// v1 hierarchy afresh and write its release_agent (CVE-2022-0492). So the
// container also gets a cgroup of its own in every v1 hierarchy, made the
// same way as in cgroup2; the supervisor moves the stage there and only
// then does the stage make its cgroup namespace (StageSpec.LateCgroupNS).

// V1Hierarchy is one mounted cgroup v1 hierarchy and the supervisor's
// cgroup in it.
type V1Hierarchy struct {
	Mount string // e.g. /sys/fs/cgroup/pids
	Own   string // e.g. /system.slice/container@web.service
}

// V1Hierarchies matches the cgroup v1 mounts of mountinfo with the lines of
// /proc/self/cgroup, by their controllers (or name=).
func V1Hierarchies(mountinfo, procSelfCgroup []byte) []V1Hierarchy {
	own := map[string]string{} // sorted controller list -> path
	for _, line := range procLines(procSelfCgroup) {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 || f[1] == "" {
			continue
		}
		own[controllerKey(strings.Split(f[1], ","))] = f[2]
	}
	var out []V1Hierarchy
	for _, m := range cgroupMounts(mountinfo) {
		if m.Type != "cgroup" || m.Root != "/" {
			continue
		}
		var ctrls []string
		for _, o := range m.Options {
			if o != "rw" && o != "ro" && !strings.HasPrefix(o, "release_agent=") && o != "clone_children" && o != "xattr" && o != "noprefix" && o != "cpuset_v2_mode" && o != "favordynmods" {
				ctrls = append(ctrls, o)
			}
		}
		if p, ok := own[controllerKey(ctrls)]; ok && path.IsAbs(p) && !strings.Contains(p, "/..") {
			out = append(out, V1Hierarchy{Mount: m.Point, Own: path.Clean(p)})
		}
	}
	return out
}

// cgroupMount is a cgroup or cgroup2 line of mountinfo: the mount's root
// in its hierarchy and where it is mounted (unescaped), both "" if the
// line lacks them; the filesystem type; the superblock's options
// (controllers, name=, favordynmods, ...).
type cgroupMount struct {
	Root, Point string
	Type        string // "cgroup" or "cgroup2"
	Options     []string
}

// cgroupMounts lists the cgroup and cgroup2 mounts of mountinfo.
func cgroupMounts(mountinfo []byte) []cgroupMount {
	var out []cgroupMount
	for _, line := range procLines(mountinfo) {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		pf, sf := strings.Fields(pre), strings.Fields(post)
		if len(sf) < 3 || (sf[0] != "cgroup" && sf[0] != "cgroup2") {
			continue
		}
		m := cgroupMount{Type: sf[0], Options: strings.Split(sf[2], ",")}
		if len(pf) >= 5 {
			m.Root, m.Point = pf[3], unescapeMountPath(pf[4])
		}
		out = append(out, m)
	}
	return out
}

// hostV1Hierarchies is V1Hierarchies of the calling process.
func hostV1Hierarchies() ([]V1Hierarchy, error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	pc, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	return V1Hierarchies(mi, pc), nil
}

// controllerKey names a v1 hierarchy by its controllers, in any order.
func controllerKey(c []string) string {
	s := slices.Clone(c)
	slices.Sort(s)
	return strings.Join(s, ",")
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+3 < len(p) {
			var v byte
			ok := true
			for _, c := range p[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// makeV1 makes the container's cgroup (rel below the supervisor's own) in
// every writable v1 hierarchy. Read-only hierarchies (as inside another
// container) are left alone: nothing there can be written, and a fresh
// mount cannot reach above them.
func (c *Cgroup) makeV1(rel string) error {
	hs, err := hostV1Hierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		dir := path.Join(h.Mount, h.Own, rel)
		if err := mkdirCgroup(dir); err != nil {
			if errors.Is(err, unix.EROFS) {
				continue
			}
			return fmt.Errorf("cgroup v1 %s: %w", h.Mount, err)
		}
		c.v1 = append(c.v1, h)
		c.v1Dirs = append(c.v1Dirs, dir)
		if strings.HasSuffix(path.Base(h.Mount), "cpuset") || fileExists(path.Join(dir, "cpuset.cpus")) {
			// A new cpuset is empty and takes no tasks until given CPUs
			// and memory nodes: the parent's.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if b, err := os.ReadFile(path.Join(path.Dir(dir), f)); err == nil {
					_ = os.WriteFile(path.Join(dir, f), b, 0)
				}
			}
		}
	}
	return nil
}

// HasV1 reports whether the container has cgroups in v1 hierarchies.
func (c *Cgroup) HasV1() bool { return len(c.v1Dirs) > 0 }

// Move moves process pid (the stage, with all its threads) into the
// container's v1 cgroups, and with unified into its cgroup2 cgroup too.
func (c *Cgroup) Move(pid int, unified bool) error {
	procs := []byte(strconv.Itoa(pid))
	if unified {
		dir := path.Join(c.Mount, c.Payload)
		if err := os.WriteFile(path.Join(dir, "cgroup.procs"), procs, 0); err != nil {
			return fmt.Errorf("move the container into %s: %w", dir, err)
		}
	}
	for i, dir := range c.v1Dirs {
		if err := os.WriteFile(path.Join(dir, "cgroup.procs"), procs, 0); err != nil {
			return fmt.Errorf("cgroup v1 %s: move the container into %s: %w", c.v1[i].Mount, dir, err)
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// HostHasWritableV1 reports whether the supervisor stands in a writable
// cgroup v1 hierarchy, where the container will get cgroups of its own
// (a hybrid host; not inside another container, whose v1 hierarchies
// are read-only).
func HostHasWritableV1() bool {
	hs, _ := hostV1Hierarchies()
	for _, h := range hs {
		if unix.Access(path.Join(h.Mount, h.Own), unix.W_OK) == nil {
			return true
		}
	}
	return false
}
