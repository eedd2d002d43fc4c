//go:build linux

package e2e

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeouts of a boot of this machine's own systemd (about 1-3 s here).
const (
	bootTimeout     = 60 * time.Second
	shutdownTimeout = 60 * time.Second
)

// bootMachine boots this machine's own OS statelessly and waits until
// sockspawn forwards READY=1. extra goes before the init's arguments.
func bootMachine(t *testing.T, extra ...string) (*machine, int) {
	t.Helper()
	args := append(volatileHost(), "-b")
	args = append(args, extra...)
	args = append(args, "--", "systemd.firstboot=off")
	m := startMachine(t, runSpec{Args: args, Notify: true})
	m.Leader()
	readyIdx, _ := m.WaitNotify("READY=1", bootTimeout)
	return m, readyIdx
}

// TestBoot boots systemd, checks it from inside and stops it with
// SIGTERM.
func TestBoot(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	const credID, credValue = "e2e.boot", "hello from the e2e test"
	m, readyIdx := bootMachine(t, "--console=read-only", "--set-credential="+credID+":"+credValue)

	// READY=1 must mean the container is up: systemd sends it once its
	// boot transaction is done, so the state is no longer starting.
	state, _ := m.Enter(30*time.Second, "systemctl", "is-system-running")
	if state != "running" && state != "degraded" {
		t.Errorf("READY=1 was forwarded while systemd inside says it is %q", state)
	}
	leaderIdx, _ := m.Notify.Index("X_SOCKSPAWN_LEADER_PID=")
	if leaderIdx < 0 || readyIdx < leaderIdx {
		t.Errorf("READY=1 (message #%d) came before X_SOCKSPAWN_LEADER_PID (#%d):\n%s", readyIdx, leaderIdx, m.Notify)
	}
	if i, _ := m.Notify.Index("STATUS="); i < 0 {
		t.Errorf("no STATUS= forwarded from systemd:\n%s", m.Notify)
	}

	checkSystemRunning(t, m)

	t.Run("conformance", func(t *testing.T) {
		e := newExpect(t, m.Name)
		e.Console, e.Entered, e.PID = "pty", true, 0
		e.Credentials = map[string]string{credID: credValue}
		out, err := m.Enter(30*time.Second, conformancePath, e.arg())
		res := reportConformance(t, "inside booted systemd", out)
		if err != nil && len(res.Failures) == 0 {
			t.Errorf("conformance payload: %v", err)
		}
	})

	t.Run("machine-id", func(t *testing.T) {
		uuid := pid1Env(t, m.Leader())["container_uuid"]
		if uuid == "" {
			t.Fatal("no container_uuid in the environment of the container's init")
		}
		got, err := m.Enter(10*time.Second, "cat", "/etc/machine-id")
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ReplaceAll(uuid, "-", ""); got != want {
			t.Errorf("/etc/machine-id is %q, want %q (container_uuid %s without dashes)", got, want, uuid)
		}
	})

	t.Run("identity", func(t *testing.T) {
		wantOutput(t, m, m.Name, "hostname")
		wantOutput(t, m, "sockspawn", "cat", "/run/systemd/container")
		wantOutput(t, m, "container-other", "systemd-detect-virt")
		wantOutput(t, m, credValue, "cat", "/run/credentials/@system/"+credID)
	})

	// systemd inside hands credentials to its services with a mount that
	// a helper process makes and moves into PID 1's namespace: it
	// reaches PID 1, and so the service, only if the container's mounts
	// are shared. Both a credential of the service's own and one passed
	// down from sockspawn (Container Interface, credentials, rule 5).
	t.Run("service-credentials", func(t *testing.T) {
		want := credValue + "\nset in the unit"
		wantOutput(t, m, want, "systemd-run", "--quiet", "--wait", "--pipe",
			"-p", "LoadCredential="+credID, "-p", "SetCredential=e2e.unit:set in the unit",
			"sh", "-c", `cat "$CREDENTIALS_DIRECTORY/`+credID+`"; echo; cat "$CREDENTIALS_DIRECTORY/e2e.unit"`)
	})

	// Shared within the container, but a slave of the host: a mount made
	// inside on a directory that comes from the host never reaches the
	// host.
	t.Run("mounts-stay-inside", func(t *testing.T) {
		source := "sockspawn-e2e-" + m.Name
		if _, err := m.Enter(10*time.Second, "mount", "-t", "tmpfs", source, "/usr/local"); err != nil {
			t.Fatal(err)
		}
		if got, _ := m.Enter(10*time.Second, "findmnt", "-n", "-o", "SOURCE", "/usr/local"); got != source {
			t.Fatalf("inside, /usr/local is mounted from %q, want %q", got, source)
		}
		mi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(mi), " "+source+" ") {
			_ = syscall.Unmount("/usr/local", syscall.MNT_DETACH)
			t.Errorf("a tmpfs mounted inside the container on /usr/local appeared on the host")
		}
	})

	m.Signal(syscall.SIGTERM)
	if status := m.Wait(shutdownTimeout); status != 0 {
		t.Errorf("after SIGTERM sockspawn exited with %d, want 0 (clean poweroff); stderr:\n%s", status, tail(m.Stderr.String(), 20))
	}
	if i, _ := m.Notify.Index("STOPPING=1"); i < readyIdx {
		t.Errorf("no STOPPING=1 after SIGTERM:\n%s", m.Notify)
	}
	checkForwarded(t, m)
	if out := m.Stdout.String(); !strings.Contains(out, "Welcome to") {
		t.Errorf("--console=read-only did not relay systemd's boot messages to stdout; got:\n%s", tail(out, 20))
	}
}

// checkSystemRunning waits for systemd's boot to settle and wants
// "running"; otherwise it reports the failed units with their logs.
func checkSystemRunning(t *testing.T, m *machine) {
	t.Helper()
	state, _ := m.Enter(bootTimeout, "systemctl", "is-system-running", "--wait")
	if state == "running" {
		return
	}
	failed, _ := m.Enter(10*time.Second, "systemctl", "list-units", "--failed", "--no-legend", "--plain", "--no-pager")
	var detail strings.Builder
	for _, l := range strings.Split(failed, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		log, _ := m.Enter(10*time.Second, "journalctl", "-b", "--no-pager", "-o", "cat", "-n", "8", "-u", f[0])
		fmt.Fprintf(&detail, "  %s\n    %s\n", l, strings.ReplaceAll(log, "\n", "\n    "))
	}
	t.Errorf("systemctl is-system-running --wait: %q, want \"running\"; failed units:\n%s", state, detail.String())
}

// wantOutput runs a command inside m and compares its output.
func wantOutput(t *testing.T, m *machine, want string, args ...string) {
	t.Helper()
	got, err := m.Enter(10*time.Second, args...)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if got != want {
		t.Errorf("%s: %q, want %q", strings.Join(args, " "), got, want)
	}
}

// pid1Env reads the environment of the container's init from the host.
func pid1Env(t *testing.T, leader int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", leader))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// TestBootReboot: `systemctl reboot` inside ends sockspawn with 133.
func TestBootReboot(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	testShutdownFromInside(t, "reboot", 133)
}

// TestBootPoweroff: `systemctl poweroff` inside ends sockspawn with 0.
func TestBootPoweroff(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	testShutdownFromInside(t, "poweroff", 0)
}

func testShutdownFromInside(t *testing.T, verb string, want int) {
	m, _ := bootMachine(t, "--console=passive")
	// systemctl may lose its connection as the system goes down: its
	// own status does not matter, sockspawn's does.
	if _, err := m.Enter(30*time.Second, "systemctl", verb); err != nil {
		t.Logf("systemctl %s: %v", verb, err)
	}
	if status := m.Wait(shutdownTimeout); status != want {
		t.Errorf("after `systemctl %s` inside, sockspawn exited with %d, want %d; stderr:\n%s", verb, status, want, tail(m.Stderr.String(), 20))
	}
	checkForwarded(t, m)
}

// TestBootEarlySIGTERM: SIGTERM while systemd is still booting is held
// until it can handle SIGRTMIN+3, then leads to a clean shutdown.
func TestBootEarlySIGTERM(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	args := append(volatileHost(), "-b", "--console=passive", "--", "systemd.firstboot=off")
	m := startMachine(t, runSpec{Args: args, Notify: true})
	m.Leader()
	m.Signal(syscall.SIGTERM)
	if status := m.Wait(shutdownTimeout); status != 0 {
		t.Errorf("SIGTERM during boot: sockspawn exited with %d, want 0 (clean poweroff); stderr:\n%s", status, tail(m.Stderr.String(), 20))
	}
	if i, _ := m.Notify.Index("STOPPING=1"); i < 0 {
		t.Errorf("no STOPPING=1 after SIGTERM:\n%s", m.Notify)
	}
	checkForwarded(t, m)
}
