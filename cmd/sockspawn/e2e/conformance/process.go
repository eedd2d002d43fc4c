//go:build linux

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// checkProcess checks who we are: PID 1 (or 2 under --as-pid2), with only
// stdio and the listening fds open, and a /proc of our own pid namespace.
func checkProcess(r *report, e expect, fds []int) {
	if e.PID != 0 {
		if got := os.Getpid(); got != e.PID {
			r.fail("pid", "running as pid %d, want %d", got, e.PID)
		} else {
			r.ok("pid")
		}
		if e.PID == 2 {
			if pp := os.Getppid(); pp != 1 {
				r.fail("pid-parent", "parent is pid %d, want the stub init, pid 1", pp)
			} else {
				r.ok("pid-parent")
			}
		}
	}
	if !e.Entered {
		checkFDs(r, fds)
	}
	self, err := os.Readlink("/proc/self")
	switch {
	case err != nil:
		r.fail("proc-own-pid-namespace", "%v", err)
	case self != strconv.Itoa(os.Getpid()):
		r.fail("proc-own-pid-namespace", "/proc/self is %q but our pid is %d: /proc is not of the container's pid namespace", self, os.Getpid())
	default:
		r.ok("proc-own-pid-namespace")
	}
}

// checkFDs checks that only 0, 1, 2 and the LISTEN_FDS fds were open when
// the payload started.
func checkFDs(r *report, fds []int) {
	listen := 0
	if v := os.Getenv("LISTEN_FDS"); v != "" {
		listen, _ = strconv.Atoi(v)
	}
	var stray []string
	seen := map[int]bool{}
	for _, fd := range fds {
		seen[fd] = true
		if fd <= 2 || fd < 3+listen {
			continue
		}
		target, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		stray = append(stray, fmt.Sprintf("%d -> %s", fd, target))
	}
	for fd := 0; fd <= 2; fd++ {
		if !seen[fd] {
			stray = append(stray, fmt.Sprintf("%d missing", fd))
		}
	}
	if len(stray) > 0 {
		r.fail("fds", "want only 0, 1, 2 (LISTEN_FDS=%d), got %s", listen, strings.Join(stray, ", "))
		return
	}
	r.ok("fds")
}

// nsKinds are the namespaces every container gets.
var nsKinds = []string{"mnt", "pid", "uts", "ipc", "cgroup"}

func checkNamespaces(r *report, e expect) {
	for _, k := range nsKinds {
		name := "namespace-" + k
		own, err := os.Readlink("/proc/self/ns/" + k)
		host := e.HostNS[k]
		switch {
		case err != nil:
			r.fail(name, "%v", err)
		case host == "":
			r.fail(name, "the test did not pass the host's %s namespace", k)
		case own == host:
			r.fail(name, "same %s namespace as the host (%s)", k, own)
		default:
			r.ok(name)
		}
	}
	if net, err := os.Readlink("/proc/self/ns/net"); err == nil {
		info("net namespace shared with host: %v", net == e.HostNS["net"])
	}
}

func checkHostname(r *report, e expect) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		r.fail("hostname", "uname: %v", err)
		return
	}
	got := unix.ByteSliceToString(u.Nodename[:])
	if got != e.Machine {
		r.fail("hostname", "hostname %q, want the machine name %q", got, e.Machine)
		return
	}
	r.ok("hostname")
}
