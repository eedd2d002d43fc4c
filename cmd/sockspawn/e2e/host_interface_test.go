//go:build linux

package e2e

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHostContainerInterface boots its own nspawn host and checks the
// Container Interface points of issue 14 under container@.service: a
// machine with TTYs=2 in its configuration file gets gettys that
// `sockspawn login` reaches; `sockspawn bind` mounts into it; a host
// process connects to a socket it binds in /run/host/unix-export/; and
// the unix-export directory and the control socket are gone after
// `systemctl stop`, and after `systemctl kill -s KILL` once the machine
// starts again.
func TestHostContainerInterface(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	h := startNspawnHost(t)
	const name = "ci"
	unit := "container@" + name + ".service"
	hostStopUnits(t, h, unit)
	m := hostStartMachine(t, h, name, "TTYs=2\n")

	// Login on an extra tty, through the nspawn host's sockspawn.
	l := startLoginCmd(t, exec.Command("nsenter", "-t", strconv.Itoa(h.Leader), "-a", "/usr/local/bin/sockspawn", "login", name, "2"))
	l.waitPrompt(t, name+" login:", 60*time.Second)
	l.detach(t)

	// A live bind.
	h.Must(t, "mkdir", "-p", "/srv/ci-bind")
	h.WriteFile(t, "/srv/ci-bind/greeting", "hello through sockspawn bind\n")
	if r := h.Run(t, 30*time.Second, "/usr/local/bin/sockspawn", "bind", name, "/srv/ci-bind", "/mnt/ci", "--mkdir", "--read-only"); r.Status != 0 {
		t.Fatalf("sockspawn bind in the nspawn host: %s", r)
	}
	if r := m.Enter(10*time.Second, "cat", "/mnt/ci/greeting"); r.Status != 0 || r.Stdout != "hello through sockspawn bind\n" {
		t.Errorf("cat /mnt/ci/greeting inside: %s", r)
	}

	// An exported socket.
	exportDir := "/run/sockspawn/unix-export/" + name
	if r := m.Enter(30*time.Second, "systemd-run", "--quiet", "--unit=e2e-export", "systemd-socket-activate",
		"--listen=/run/host/unix-export/hello", "--accept", "--inetd", "/bin/echo", "hello from "+name); r.Status != 0 {
		t.Fatalf("systemd-run inside: %s", r)
	}
	sock := h.Path(exportDir + "/hello")
	hostWaitUntil(t, 30*time.Second, "the exported socket on the nspawn host", func() (bool, string) {
		c, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			return false, err.Error()
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil {
			return false, fmt.Sprintf("read %q: %v", b, err)
		}
		return string(b) == "hello from "+name+"\n", string(b)
	})
	if r := h.Run(t, 10*time.Second, "findmnt", "-n", "-o", "OPTIONS", exportDir); r.Status != 0 || !strings.HasPrefix(r.Stdout, "ro,") {
		t.Errorf("findmnt %s in the nspawn host: want a read-only mount, got %s", exportDir, r)
	}

	gone := func(when string) {
		t.Helper()
		for _, p := range []string{exportDir, "/run/sockspawn/control/" + name} {
			if r := h.Run(t, 10*time.Second, "test", "-e", p); r.Status == 0 {
				t.Errorf("%s: %s is left in the nspawn host", when, p)
			}
		}
		if r := h.Run(t, 10*time.Second, "findmnt", "-n", exportDir); r.Status == 0 {
			t.Errorf("%s: %s is still mounted in the nspawn host: %s", when, exportDir, r.Stdout)
		}
	}
	if r := h.Run(t, shutdownTimeout, "systemctl", "stop", unit); r.Status != 0 {
		t.Fatalf("systemctl stop %s: %s", unit, r)
	}
	gone("after systemctl stop")

	// SIGKILL to every process of the unit, the supervisor included: it
	// cannot clean up, and the next start must not inherit what it left.
	m = hostStartMachine(t, h, name, "TTYs=2\n")
	if r := m.Enter(10*time.Second, "touch", "/run/host/unix-export/stale"); r.Status != 0 {
		t.Fatalf("touch inside: %s", r)
	}
	h.Run(t, 30*time.Second, "systemctl", "kill", "-s", "KILL", unit)
	hostWaitUntil(t, 30*time.Second, unit+" gone after SIGKILL", func() (bool, string) {
		st := h.Show(t, unit, "ActiveState")["ActiveState"]
		return st == "failed" || st == "inactive", st
	})
	h.Run(t, 10*time.Second, "systemctl", "reset-failed", unit)
	m = hostStartMachine(t, h, name, "TTYs=2\n")
	if r := h.Run(t, 10*time.Second, "test", "-e", exportDir+"/stale"); r.Status == 0 {
		t.Error("what the container exported before the SIGKILL is still there after the next start")
	}
	if r := m.Enter(10*time.Second, "touch", "/run/host/unix-export/fresh"); r.Status != 0 {
		t.Errorf("the new boot cannot write its /run/host/unix-export: %s", r)
	}
	if r := h.Run(t, shutdownTimeout, "systemctl", "stop", unit); r.Status != 0 {
		t.Fatalf("systemctl stop %s: %s", unit, r)
	}
	gone("after SIGKILL, a new start and systemctl stop")

	if !machinedInstalled() {
		missing(t, "systemd-machined (apt-get install systemd-container)")
	}
	t.Run("bind-user-machinectl-shell", func(t *testing.T) { testHostBindUserShell(t, h) })
}
