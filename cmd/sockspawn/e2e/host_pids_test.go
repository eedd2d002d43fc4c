//go:build linux

package e2e

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/units"
)

// OuterPID returns the pid, in the test's pid namespace, of the process
// the nspawn host calls pid; 0 if there is none.
func (h *nspawnHost) OuterPID(pid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		outer, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ns := hostNSpid(outer)
		if len(ns) != 2 || ns[1] != pid {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", outer)); err == nil && l == h.pidNS {
			return outer
		}
	}
	return 0
}

// hostNSpid returns the NSpid line of a process: its pid in each pid
// namespace it is in, outermost first.
func hostNSpid(pid int) []int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "NSpid:"); ok {
			var out []int
			for _, s := range strings.Fields(rest) {
				n, _ := strconv.Atoi(s)
				out = append(out, n)
			}
			return out
		}
	}
	return nil
}

// hostChildren returns the children of process pid (test's pid namespace).
func hostChildren(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// hostMachine is a running container@NAME.service, seen from the test.
type hostMachine struct {
	Name       string
	MainPID    int // the supervisor, as the nspawn host numbers it
	Supervisor int // the supervisor, test's pid namespace
	Init       int // the container's init, test's pid namespace
}

// Machine finds the supervisor (the unit's MainPID) and the container's
// init (the supervisor's child) of machine name. It fails t if the unit
// has no main process or that has no child.
func (h *nspawnHost) Machine(t *testing.T, name string) hostMachine {
	t.Helper()
	unit := units.ServiceName(name)
	m := hostMachine{Name: name}
	m.MainPID, _ = strconv.Atoi(h.Show(t, unit, "MainPID")["MainPID"])
	if m.MainPID <= 0 {
		t.Fatalf("%s has no main process: %v", unit, h.Show(t, unit, "ActiveState", "SubState", "Result"))
	}
	if m.Supervisor = h.OuterPID(m.MainPID); m.Supervisor == 0 {
		t.Fatalf("%s: MainPID %d not found in the nspawn host", unit, m.MainPID)
	}
	kids := hostChildren(m.Supervisor)
	if len(kids) != 1 {
		t.Fatalf("%s: the supervisor (pid %d) has children %v, want exactly one: the container's init", unit, m.Supervisor, kids)
	}
	m.Init = kids[0]
	if ns := hostNSpid(m.Init); len(ns) != 3 || ns[2] != 1 {
		t.Fatalf("%s: the supervisor's child %d has NSpid %v, want PID 1 of a pid namespace of its own", unit, m.Init, ns)
	}
	return m
}

// Enter runs a command inside the machine's container.
func (m hostMachine) Enter(timeout time.Duration, args ...string) hostResult {
	return hostExec(m.Init, timeout, args...)
}

// hostWaitUntil polls cond until it holds or timeout passes; then it
// fails t with what cond last said.
func hostWaitUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, timeout, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hostPidCgroup returns the cgroup2 path of pid as the test sees it.
func hostPidCgroup(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	return ""
}

// hostAlive reports whether pid still runs systemd (a container's init).
func hostAlive(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.TrimSpace(string(comm)) == "systemd"
}

// hostAtoi is strconv.Atoi for values systemd printed; -1 if not a number.
func hostAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// hostProps formats unit properties for messages, sorted.
func hostProps(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, p[k])
	}
	return strings.TrimSpace(b.String())
}
