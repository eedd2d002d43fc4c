//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// cgroupMount returns where the cgroup2 hierarchy is mounted on the host.
func cgroupMount() string {
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p
		}
	}
	return ""
}

// findCgroups returns the cgroup directories named sockspawn-NAME.
func findCgroups(name string) []string {
	root := cgroupMount()
	if root == "" || name == "" {
		return nil
	}
	var found []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == "sockspawn-"+name {
			found = append(found, p)
			return fs.SkipDir
		}
		return nil
	})
	return found
}

// mountinfo returns the host's mount table lines.
func mountinfo(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// checkLeftovers fails t for anything of machine name left on the host:
// mounts, its runtime directory, its cgroup, processes of its pid
// namespace (pidNS, if known) or its leader.
func checkLeftovers(t *testing.T, name string, leader int, pidNS string) {
	t.Helper()
	for _, l := range mountinfo(t) {
		// Other machines' unix-export directories are theirs (named
		// for them); anything else sockspawn mounts on the host is not.
		ours := strings.Contains(l, "/run/sockspawn") && !strings.Contains(l, " "+runtimeUnixExport+"/")
		if (name != "" && strings.Contains(l, name)) || ours {
			t.Errorf("leftover mount on the host: %s", l)
		}
	}
	if name != "" {
		for _, p := range []string{filepath.Join(runtimeMachines, name), filepath.Join(runtimeTunnels, name), filepath.Join(runtimeUnixExport, name), filepath.Join(runtimeControl, name)} {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("leftover runtime directory %s (lstat: %v)", p, err)
			}
		}
	}
	for _, cg := range findCgroups(name) {
		t.Errorf("leftover cgroup %s", cg)
	}
	if pidNS != "" {
		if pids := processesIn(pidNS); len(pids) > 0 {
			t.Errorf("processes left in the container's pid namespace %s: %s", pidNS, strings.Join(pids, ", "))
		}
	}
	if leader > 0 {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", leader)); err == nil && ns == pidNS {
			t.Errorf("the container's init (pid %d) still runs", leader)
		}
	}
}

// processesIn lists the processes in pid namespace ns as "PID (COMM)".
// pinPidNS returns the pid namespace of pid, as "pid:[INODE]", and keeps
// it open until the machine's cleanup. Namespace inode numbers are reused
// once a namespace is gone: without the pin, a container a parallel test
// starts later (an nspawn host, say) may get the number, and its
// processes would pass for this machine's leftovers.
func (m *machine) pinPidNS(pid int) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return "", err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return "", err
	}
	ns := fmt.Sprintf("pid:[%d]", st.Ino) // as readlink shows it
	m.nsPins = append(m.nsPins, f)
	return ns, nil
}

func processesIn(ns string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
			comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
			out = append(out, e.Name()+" ("+strings.TrimSpace(string(comm))+")")
		}
	}
	return out
}

// removeLeftovers removes what a killed sockspawn left of machine name.
func removeLeftovers(t *testing.T, name string) {
	for _, cg := range findCgroups(name) {
		var dirs []string
		_ = filepath.WalkDir(cg, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i])
		}
	}
	_ = os.Remove(filepath.Join(runtimeMachines, name))
	_ = os.Remove(filepath.Join(runtimeTunnels, name))
	_ = unix.Unmount(filepath.Join(runtimeUnixExport, name), unix.MNT_DETACH)
	_ = os.Remove(filepath.Join(runtimeUnixExport, name))
	_ = os.Remove(filepath.Join(runtimeControl, name))
	t.Logf("removed what the killed sockspawn left of %s", name)
}
