//go:build linux

package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// byHandMachine is the machine name of the `sockspawn run` started by hand.
const byHandMachine = "byhand"

// testByHandOutsideUnits: `sockspawn run` started from nsenter, in no unit
// of the nspawn host at all (its cgroup lies outside the nspawn host's
// cgroup namespace), asks the nspawn host's systemd for machine-NAME.scope.
func testByHandOutsideUnits(t *testing.T, h *nspawnHost) {
	testByHand(t, h, nil, "")
}

// testByHandFromScope: the same from a scope without Delegate=, where a
// login shell's processes run (session-N.scope); systemd-run makes one.
func testByHandFromScope(t *testing.T, h *nspawnHost) {
	testByHand(t, h, []string{"systemd-run", "--scope", "--quiet", "--unit=e2e-login.scope", "--"}, "e2e-login.scope")
}

// byHand is one `sockspawn run` started by hand in the nspawn host, as a
// session leader of its own in the background.
type byHand struct {
	cmd        *exec.Cmd // nsenter, whose child is sockspawn
	stderr     lockedBuffer
	exited     chan struct{}
	Supervisor int // test's pid namespace
	Init       int // test's pid namespace
}

// startByHand starts `sockspawn run -D / --volatile=yes -M NAME -b
// --console=passive` in the nspawn host behind launcher, and returns once
// the container's systemd is up.
func startByHand(t *testing.T, h *nspawnHost, launcher []string, name string) *byHand {
	t.Helper()
	args := append([]string{"-t", strconv.Itoa(h.Leader), "-a"}, launcher...)
	args = append(args, "sockspawn", "run", "-D", "/", "--volatile=yes", "-M", name, "-b", "--console=passive", "--", "systemd.firstboot=off")
	b := &byHand{cmd: exec.Command("nsenter", args...), exited: make(chan struct{})}
	b.cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	b.cmd.Stderr = &b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	t.Logf("in the nspawn host: %s", strings.Join(args[3:], " "))
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("nsenter: %v", err)
	}
	go func() {
		_ = b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() { b.kill(t, h, name) })
	hostWaitUntil(t, bootTimeout, "sockspawn run and the container's init", func() (bool, string) {
		select {
		case <-b.exited:
			t.Fatalf("sockspawn run exited with %d: %s", b.cmd.ProcessState.ExitCode(), b.stderr.String())
		default:
		}
		kids := hostChildren(b.cmd.Process.Pid)
		if len(kids) != 1 || !byHandComm(kids[0], "sockspawn") {
			return false, "nsenter's children: " + strings.Join(intsToStrings(kids), " ")
		}
		b.Supervisor = kids[0]
		inits := hostChildren(b.Supervisor)
		if len(inits) != 1 || !hostAlive(inits[0]) {
			return false, "the supervisor's children: " + strings.Join(intsToStrings(inits), " ")
		}
		b.Init = inits[0]
		return true, ""
	})
	if ns := hostNSpid(b.Init); len(ns) != 3 || ns[2] != 1 {
		t.Fatalf("the supervisor's child %d has NSpid %v, want PID 1 of a pid namespace of its own", b.Init, ns)
	}
	// Nothing tells when the container is up; its systemd's bus comes
	// first, is-system-running --wait the rest.
	hostWaitUntil(t, bootTimeout, "systemd in "+name+" up", func() (bool, string) {
		r := hostExec(b.Init, bootTimeout, "systemctl", "is-system-running", "--wait")
		s := strings.TrimSpace(r.Stdout)
		return s == "running" || s == "degraded", r.String()
	})
	return b
}

// kill ends a machine that the test did not end, and its scope.
func (b *byHand) kill(t *testing.T, h *nspawnHost, name string) {
	select {
	case <-b.exited:
		return
	default:
	}
	if b.Supervisor > 0 {
		_ = syscall.Kill(b.Supervisor, syscall.SIGTERM)
	}
	select {
	case <-b.exited:
	case <-time.After(shutdownTimeout):
		t.Errorf("sockspawn run (pid %d) did not exit within %v of SIGTERM; killing it", b.Supervisor, shutdownTimeout)
		h.Run(t, 30*time.Second, "systemctl", "kill", "-s", "KILL", "machine-"+name+".scope")
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

func byHandComm(pid int, want string) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.TrimSpace(string(comm)) == want
}

func intsToStrings(ns []int) []string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return s
}

// byHandCgroups lists the cgroup directories, in every hierarchy the
// test sees, that are the nspawn host's or carry the machine's name.
func byHandCgroups(h *nspawnHost, name string) map[string]bool {
	dirs := map[string]bool{}
	_ = filepath.WalkDir("/sys/fs/cgroup", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		for _, cg := range h.cgroups {
			if strings.HasPrefix(p, cg+"/") {
				dirs[p] = true
			}
		}
		if strings.Contains(d.Name(), name) {
			dirs[p] = true
		}
		return nil
	})
	return dirs
}

// byHandNewCgroups returns the tops of the directory trees in now that are not in before,
// other than machine.slice, scope and what lies below it, and the
// launcher's own unit (which sockspawn leaves, empty).
func byHandNewCgroups(before, now map[string]bool, scope, launcherUnit string) []string {
	var extra []string
	for p := range now {
		if before[p] {
			continue
		}
		ok := strings.HasSuffix(p, "/machine.slice") // made for the first machine
		if scope != "" {
			ok = ok || strings.HasSuffix(p, "/machine.slice/"+scope) || strings.Contains(p, "/machine.slice/"+scope+"/")
		}
		if launcherUnit != "" {
			ok = ok || strings.HasSuffix(p, "/"+launcherUnit)
		}
		if !ok {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	// Name the top of each new tree only.
	var tops []string
	for _, p := range extra {
		if len(tops) == 0 || !strings.HasPrefix(p, tops[len(tops)-1]+"/") {
			tops = append(tops, p)
		}
	}
	return tops
}

// testByHand runs `sockspawn run` by hand behind launcher (a command that
// execs the rest, or nil) whose own unit, if any, is launcherUnit. It
// must end up in machine-byhand.scope, delegated, and leave nothing.
func testByHand(t *testing.T, h *nspawnHost, launcher []string, launcherUnit string) {
	name := byHandMachine
	scope := "machine-" + name + ".scope"
	// machined runs before the snapshot: its cgroup is not ours.
	h.Must(t, "systemctl", "start", "systemd-machined.service")
	before := byHandCgroups(h, name)
	mon := h.MonitorMachined(t)
	b := startByHand(t, h, launcher, name)

	p := h.Show(t, scope, "ActiveState", "SubState", "Delegate", "Slice", "ControlGroup", "Transient")
	if p["ActiveState"] != "active" || p["Delegate"] != "yes" || p["Slice"] != "machine.slice" || p["ControlGroup"] != "/machine.slice/"+scope || p["Transient"] != "yes" {
		t.Errorf("%s: %s; want ActiveState=active Delegate=yes Slice=machine.slice ControlGroup=/machine.slice/%s Transient=yes", scope, hostProps(p), scope)
	}
	if r := h.Run(t, 30*time.Second, "systemctl", "status", "--no-pager", "-n", "0", scope); r.Status != 0 || !strings.Contains(r.Stdout, "Active: active (running)") {
		t.Errorf("systemctl status %s: want exit status 0 and active (running), got %s", scope, r)
	} else {
		t.Logf("systemctl status %s:\n%s", scope, r.Stdout)
	}
	hostWantCgroup(t, b.Init, "/machine.slice/"+scope+"/payload/init.scope", "the container's init")
	hostWantCgroup(t, b.Supervisor, "/machine.slice/"+scope+"/supervisor", "the supervisor")
	for _, cg := range h.cgroups[:1] {
		matches, _ := filepath.Glob(filepath.Join(cg, "*", "machine.slice", scope, "cgroup.procs"))
		for _, procs := range matches {
			if pids, _ := os.ReadFile(procs); len(strings.Fields(string(pids))) > 0 {
				t.Errorf("processes in %s itself, outside payload and supervisor: %q", filepath.Dir(procs), strings.Fields(string(pids)))
			}
		}
	}
	machinedWantRegistered(t, h, name, scope, b.Init)
	machinedWantCall(t, mon, name, b.Init)
	during := byHandCgroups(h, name)
	if own := filepath.Join(cgroupMount(), hostPidCgroup(b.Init)); !during[own] {
		t.Fatalf("the cgroup snapshot misses the container's own cgroup %s: it would see nothing", own)
	}
	for _, dir := range byHandNewCgroups(before, during, scope, launcherUnit) {
		t.Errorf("sockspawn run made a cgroup outside %s: %s", scope, dir)
	}

	// SIGTERM: the container shuts down, sockspawn exits 0 and the scope
	// goes away.
	if err := syscall.Kill(b.Supervisor, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.exited:
	case <-time.After(shutdownTimeout):
		t.Fatalf("sockspawn run (pid %d) did not exit within %v of SIGTERM", b.Supervisor, shutdownTimeout)
	}
	stderr := b.stderr.String()
	t.Logf("sockspawn run exited with %d; stderr: %q", b.cmd.ProcessState.ExitCode(), stderr)
	if status := b.cmd.ProcessState.ExitCode(); status != 0 {
		t.Errorf("sockspawn run exited with %d after SIGTERM, want 0; stderr:\n%s", status, stderr)
	}
	for _, s := range []string{"not in a delegated cgroup", "transient scope"} {
		if strings.Contains(stderr, s) {
			t.Errorf("sockspawn run printed %q:\n%s", s, stderr)
		}
	}
	if hostAlive(b.Init) {
		t.Errorf("the container's init (pid %d) still runs after sockspawn exited", b.Init)
	}
	hostWaitUntil(t, 10*time.Second, scope+" gone", func() (bool, string) {
		p := h.Show(t, scope, "LoadState", "ActiveState")
		return p["LoadState"] == "not-found", hostProps(p)
	})
	for _, dir := range byHandNewCgroups(before, byHandCgroups(h, name), "", launcherUnit) {
		t.Errorf("left after sockspawn run exited: cgroup %s", dir)
	}
	if f := machinedListed(t, h, name); f != nil {
		t.Errorf("machinectl list still shows %s after sockspawn run exited: %q", name, f)
	}
	if n := len(mon.Find("method_call", "UnregisterMachine", name)); n != 1 {
		t.Errorf("%d UnregisterMachine calls for %s, want 1:\n%s", n, name, mon.Dump())
	}
	if errs := mon.Refused("UnregisterMachine", name); len(errs) > 0 {
		t.Errorf("machined refused UnregisterMachine for %s: %s", name, errs[0])
	}
	if _, err := os.Lstat(h.Path("/run/sockspawn/machines/" + name)); err == nil {
		t.Errorf("/run/sockspawn/machines/%s is left after sockspawn run exited", name)
	}
}
