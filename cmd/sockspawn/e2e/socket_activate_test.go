//go:build linux

package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSocketFirstConnection: behind systemd-socket-activate and with
// --listen, nothing boots until the first connection; that connection
// boots the container, whose own socket unit takes over the very socket
// the host bound and answers from inside.
func TestSocketFirstConnection(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	for _, how := range sockActivators {
		t.Run(string(how), func(t *testing.T) {
			t.Parallel()
			port := sockPort(t)
			units := sockUnitDir(t, sockUnit{Name: "echo", Listen: loopback(port), Greeting: "hello"})
			m := startSockActivated(t, how, []sockAddr{{Name: "echo", Addr: loopback(port)}}, sockBootArgs(units))
			inode := sockListenerInode(t, port)
			if inode == "" {
				t.Fatalf("nothing listens on %s after %s said it does", loopback(port), how)
			}

			// Boot on demand: no init before the first connection. With
			// --listen the container is built ahead, and its cgroup holds
			// the stage alone, waiting to execute the init.
			time.Sleep(300 * time.Millisecond)
			if ls := m.sockNotifyLines("X_SOCKSPAWN_LEADER_PID="); len(ls) > 0 {
				t.Errorf("the container started before any connection: %v", ls)
			}
			cgs := findCgroups(m.Name)
			switch {
			case how == viaListen:
				if len(cgs) != 1 {
					t.Fatalf("the machine's cgroups before any connection: %v, want the held stage's", cgs)
				}
				if cmds := cgroupCommands(cgs[0]); len(cmds) != 1 || cmds[0] != "sockspawn-stage" {
					t.Errorf("in the machine's cgroup before any connection: %q, want the stage alone", cmds)
				}
			case len(cgs) > 0:
				t.Errorf("the machine's cgroup exists before any connection: %v", cgs)
			}

			start := time.Now()
			got, err := sockAsk(loopback(port), bootTimeout)
			latency := time.Since(start)
			want := "hello from " + m.Name
			if err != nil || strings.TrimSpace(got) != want {
				t.Fatalf("first connection to %s: got %q (error: %v), want %q from inside the container", loopback(port), got, err, want)
			}
			t.Logf("first connection answered from inside after %v", latency.Round(time.Millisecond))

			leader := m.Leader()
			m.WaitNotify("READY=1", bootTimeout)
			if !sockHolds(leader, inode) {
				t.Errorf("the container's init (pid %d) does not hold the listening socket the host bound (inode %s)", leader, inode)
			}
			if how == viaSocketActivate && sockHolds(m.cmd.Process.Pid, inode) {
				t.Errorf("sockspawn (pid %d) still holds the listening socket (inode %s) after handing it to the container", m.cmd.Process.Pid, inode)
			}
			wantOutput(t, m, "active", "systemctl", "is-active", "echo.socket")
			if n, err := m.Enter(10*time.Second, "systemctl", "show", "-p", "NAccepted", "--value", "echo.socket"); err != nil || n != "1" {
				t.Errorf("echo.socket inside accepted %q connections (error: %v), want 1: the first one", n, err)
			}
			// The socket unit inside keeps serving.
			if got, err := sockAsk(loopback(port), 10*time.Second); err != nil || strings.TrimSpace(got) != want {
				t.Errorf("second connection: got %q (error: %v), want %q", got, err, want)
			}

			m.Signal(syscall.SIGTERM)
			if status := m.Wait(shutdownTimeout); status != 0 {
				t.Errorf("after SIGTERM sockspawn exited with %d, want 0", status)
			}
			if i, _ := m.Notify.Index("STOPPING=1"); i < 0 {
				t.Errorf("no STOPPING=1 after SIGTERM:\n%s", m.Notify)
			}
			checkForwarded(t, m)
		})
	}
}

// TestSocketNamed: two named sockets, each taken over by the socket unit
// inside whose ListenStream= matches it; the init gets the names as
// given.
func TestSocketNamed(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	for _, how := range sockActivators {
		t.Run(string(how), func(t *testing.T) {
			t.Parallel()
			web, api := sockPort(t), sockPort(t)
			units := sockUnitDir(t,
				sockUnit{Name: "web", Listen: loopback(web), Greeting: "web"},
				sockUnit{Name: "api", Listen: loopback(api), Greeting: "api"})
			m := startSockActivated(t, how, []sockAddr{{Name: "web", Addr: loopback(web)}, {Name: "api", Addr: loopback(api)}}, sockBootArgs(units))
			inodes := map[string]string{"web": sockListenerInode(t, web), "api": sockListenerInode(t, api)}

			// The first connection goes to api, the second socket: it
			// boots the container as well as the first.
			for _, c := range []struct {
				unit string
				port int
			}{{"api", api}, {"web", web}} {
				want := fmt.Sprintf("%s from %s", c.unit, m.Name)
				got, err := sockAsk(loopback(c.port), bootTimeout)
				if err != nil || strings.TrimSpace(got) != want {
					t.Errorf("connection to %s (%s): got %q (error: %v), want %q from %s.socket inside", loopback(c.port), c.unit, got, err, want, c.unit)
				}
			}
			leader := m.Leader()
			m.WaitNotify("READY=1", bootTimeout)
			for unit, inode := range inodes {
				if inode == "" || !sockHolds(leader, inode) {
					t.Errorf("the container's init does not hold the %s socket the host bound (inode %q)", unit, inode)
				}
				if n, err := m.Enter(10*time.Second, "systemctl", "show", "-p", "NAccepted", "--value", unit+".socket"); err != nil || n != "1" {
					t.Errorf("%s.socket inside accepted %q connections (error: %v), want 1", unit, n, err)
				}
			}
			env := pid1Env(t, leader)
			for k, v := range map[string]string{"LISTEN_FDS": "2", "LISTEN_PID": "1", "LISTEN_FDNAMES": "web:api"} {
				if env[k] != v {
					t.Errorf("the container's init was started with %s=%q, want %q", k, env[k], v)
				}
			}
		})
	}
}

// cgroupProcess is a process of a cgroup: its pid and argv[0].
type cgroupProcess struct{ pid, argv0 string }

// cgroupProcesses lists the processes in cgroup dir and below.
func cgroupProcesses(dir string) []cgroupProcess {
	var ps []cgroupProcess
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, pid := range strings.Fields(string(b)) {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			argv0, _, _ := strings.Cut(string(cmdline), "\x00")
			ps = append(ps, cgroupProcess{pid, argv0})
		}
		return nil
	})
	return ps
}

// cgroupCommands is argv[0] of every process in cgroup dir and below.
func cgroupCommands(dir string) []string {
	var cmds []string
	for _, p := range cgroupProcesses(dir) {
		cmds = append(cmds, p.argv0)
	}
	return cmds
}

// TestListenStopUnused: a --listen machine stopped before any connection
// (its stage built the container and waits) ends at once with status 0,
// its init never run, and nothing left behind.
func TestListenStopUnused(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	port := sockPort(t)
	units := sockUnitDir(t, sockUnit{Name: "echo", Listen: loopback(port), Greeting: "hello"})
	m := startSockActivated(t, viaListen, []sockAddr{{Name: "echo", Addr: loopback(port)}}, sockBootArgs(units))
	if cgs := findCgroups(m.Name); len(cgs) != 1 || len(cgroupCommands(cgs[0])) != 1 {
		t.Fatalf("no held stage in the machine's cgroups %v", cgs)
	}
	// An operator's freeze is refused at once: there is nothing to freeze.
	began := time.Now()
	status, stdout, stderr := sockRun(t, 30*time.Second, cleanEnv(), nil, sockspawnBin, "freeze", m.Name)
	if status != 1 || !strings.Contains(stderr, "not booted") || time.Since(began) > 5*time.Second {
		t.Errorf("sockspawn freeze %s while its stage waits: status %d after %v, stdout %q, stderr %q; want 1 at once, saying it is not booted",
			m.Name, status, time.Since(began).Round(time.Millisecond), stdout, stderr)
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%s/comm", stagePID(t, m.Name))); err != nil || strings.TrimSpace(string(comm)) != "sockspawn-stage" {
		t.Errorf("the held stage's name in ps: %q (%v), want sockspawn-stage", comm, err)
	}
	start := time.Now()
	m.Signal(syscall.SIGTERM)
	if status := m.Wait(10 * time.Second); status != 0 {
		t.Errorf("sockspawn exited with %d, want 0; stderr:\n%s", status, tail(m.Stderr.String(), 20))
	}
	// Nothing booted, so nothing shuts down: under the suite's load the
	// cleanup alone may take a while, a boot and shutdown far longer.
	took := time.Since(start)
	t.Logf("stopped in %v", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("the stop took %v, want a few seconds at most (nothing booted)", took.Round(time.Millisecond))
	}
	if ls := m.sockNotifyLines("X_SOCKSPAWN_LEADER_PID="); len(ls) > 0 {
		t.Errorf("the container's init ran: %v", ls)
	}
	checkLeftovers(t, m.Name, 0, "")
	if got, err := sockAsk(loopback(port), time.Second); err == nil {
		t.Errorf("%s still answers after the stop: %q", loopback(port), got)
	}
}

// stagePID is the pid of the one process in machine name's cgroup.
func stagePID(t *testing.T, name string) string {
	t.Helper()
	cgs := findCgroups(name)
	if len(cgs) != 1 {
		t.Fatalf("machine %s's cgroups: %v, want one", name, cgs)
	}
	ps := cgroupProcesses(cgs[0])
	if len(ps) != 1 {
		t.Fatalf("the processes of %s: %v, want one", cgs[0], ps)
	}
	return ps[0].pid
}
