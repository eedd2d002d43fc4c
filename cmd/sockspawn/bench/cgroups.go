package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// systemd-nspawn --keep-unit, outside a unit, moves itself into a
// "supervisor" child of its own cgroup and the container into a "payload"
// child, in the cgroup2 hierarchy and, on a hybrid host, in the
// name=systemd one too; it removes neither when it exits, and the
// container's systemd leaves its init.scope in "payload". sockspawn,
// outside a unit, runs the container in "sockspawn-MACHINE" and removes
// it itself. The bench notes which of these exist before the run and
// afterwards removes the ones the run created, once they are empty.
// Nothing else is touched: other cgroups may belong to other programs.

// cgroupWatch is the cgroups the bench's containers may leave behind.
type cgroupWatch struct {
	roots  []string        // the watched subtrees, existing or not
	before map[string]bool // directories in them before the run
}

// watchCgroups notes what exists now where the containers of the bench
// (machine name machine) put their cgroups.
func watchCgroups(machine string) *cgroupWatch {
	return watchCgroupsIn(ownCgroupDirs(), machine)
}

// watchCgroupsIn is watchCgroups with the bench's own cgroup directories
// given.
func watchCgroupsIn(owns []string, machine string) *cgroupWatch {
	w := &cgroupWatch{before: map[string]bool{}}
	for _, own := range owns {
		for _, child := range []string{"payload", "supervisor", "sockspawn-" + machine} {
			w.roots = append(w.roots, filepath.Join(own, child))
		}
	}
	for _, d := range w.dirs() {
		w.before[d] = true
	}
	return w
}

// ownCgroupDirs are the bench's own cgroup in the cgroup2 hierarchy and
// in the name=systemd one, where mounted.
func ownCgroupDirs() []string {
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	cgroups, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	return cgroupDirs(string(mounts), string(cgroups))
}

// cgroupDirs finds, from the text of /proc/self/mountinfo and
// /proc/self/cgroup, the process's cgroup directories in the cgroup2
// hierarchy and in the name=systemd hierarchy (the first mount of each,
// mounted at the hierarchy's root).
func cgroupDirs(mountinfo, cgroup string) []string {
	own := map[string]string{} // "cgroup2" or "name=systemd" to the path
	for _, l := range strings.Split(cgroup, "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			own["cgroup2"] = f[2]
		case f[1] == "name=systemd":
			own["name=systemd"] = f[2]
		}
	}
	var dirs []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(mountinfo))
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, af := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(af) < 1 || pf[3] != "/" {
			continue
		}
		var key string
		switch {
		case af[0] == "cgroup2":
			key = "cgroup2"
		case af[0] == "cgroup" && len(af) >= 3 && hasOption(af[2], "name=systemd"):
			key = "name=systemd"
		default:
			continue
		}
		p, ok := own[key]
		if !ok || seen[key] || !path.IsAbs(p) || strings.Contains(p, "..") {
			continue
		}
		seen[key] = true
		dirs = append(dirs, filepath.Join(unescapeMount(pf[4]), p))
	}
	return dirs
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var n int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &n); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// dirs lists the directories in the watched subtrees, parents first.
func (w *cgroupWatch) dirs() []string {
	var out []string
	for _, r := range w.roots {
		_ = filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // gone, or never there
			}
			if d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// preexisting are the watched cgroups that were there before the run.
func (w *cgroupWatch) preexisting() []string {
	var out []string
	for d := range w.before {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// cleanup removes the watched cgroups the run created, children first,
// and returns those it removed and those it could not (still in use).
// The kernel lets go of a cgroup whose last process has just exited a
// little later, so a busy one is retried for a while.
func (w *cgroupWatch) cleanup() (removed, left []string) {
	ds := w.dirs()
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		if w.before[d] {
			continue
		}
		var err error
		for try := 0; try < 40; try++ {
			if err = syscall.Rmdir(d); err == nil || !errors.Is(err, syscall.EBUSY) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		switch {
		case err == nil:
			removed = append(removed, d)
		case errors.Is(err, syscall.ENOENT):
		default:
			procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			left = append(left, fmt.Sprintf("%s (%v; processes %v)", d, err, strings.Fields(string(procs))))
		}
	}
	sort.Strings(removed)
	return removed, left
}

// cgroupReport says what cleanup did, for the report.
func cgroupReport(removed, left, before []string) string {
	var b strings.Builder
	switch {
	case len(removed) == 0:
		fmt.Fprintf(&b, "cgroups left behind by the run: none\n")
	default:
		fmt.Fprintf(&b, "cgroups left behind by the run, now removed (empty): %s\n", strings.Join(removed, " "))
	}
	if len(left) > 0 {
		fmt.Fprintf(&b, "cgroups left behind by the run and NOT removable: %s\n", strings.Join(left, "; "))
	}
	if len(before) > 0 {
		fmt.Fprintf(&b, "cgroups there before the run, left alone: %s\n", strings.Join(before, " "))
	}
	return b.String()
}
