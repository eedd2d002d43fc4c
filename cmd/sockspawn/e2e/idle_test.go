//go:build linux

package e2e

import (
	"crypto/rand"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The idle tests (idle_*_test.go) boot this machine's OS with a socket
// unit inside that answers each connection, behind --listen, with an idle
// action and a short period, and drive it with clients at random moments.

const (
	// idlePeriod is short, so that many cycles fit in a test.
	idlePeriod = "1s"
	// idleCycles is how many idle and wake cycles a test waits for.
	idleCycles = 20
	// idleAnswerTimeout bounds each connection: nothing is judged on
	// speed, a connection that is never answered fails.
	idleAnswerTimeout = 60 * time.Second
)

// idleRandom returns a random duration in [0, max).
func idleRandom(t *testing.T, max time.Duration) time.Duration {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(max)))
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(n.Int64())
}

// idleMachine is a booted machine behind --listen with an idle action.
type idleMachine struct {
	*machine
	port int
	want string // the answer of the socket unit inside
}

// startIdleMachine starts the machine and makes the first connection,
// which boots it.
func startIdleMachine(t *testing.T, action string, extra ...string) *idleMachine {
	t.Helper()
	port := sockPort(t)
	unitBind := sockUnitDir(t, sockUnit{Name: "echo", Listen: loopback(port), Greeting: "hello"})
	args := append([]string{"--idle-action=" + action, "--idle-action-sec=" + idlePeriod}, extra...)
	args = append(args, sockBootArgs(unitBind)...)
	m := startSockActivated(t, viaListen, []sockAddr{{Name: "echo", Addr: loopback(port)}}, args)
	im := &idleMachine{machine: m, port: port, want: "hello from " + m.Name}
	im.ask(t, "the first connection")
	return im
}

// ask makes one connection and fails the test unless the container
// answers it.
func (im *idleMachine) ask(t *testing.T, what string) {
	t.Helper()
	start := time.Now()
	got, err := sockAsk(loopback(im.port), idleAnswerTimeout)
	if err != nil || strings.TrimSpace(got) != im.want {
		t.Errorf("%s (at %s): got %q (%s), want %q", what, start.Format("15:04:05.000"), got, sockFailureKind(err), im.want)
	}
}

// statuses counts the STATUS= lines that begin with prefix.
func (im *idleMachine) statuses(prefix string) int {
	return len(im.sockNotifyLines("STATUS=" + prefix))
}

// keepAwake connects every 300ms until stop is closed: each connection
// wakes a frozen machine, so that a command run inside meanwhile ends.
func (im *idleMachine) keepAwake(t *testing.T, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
				im.ask(t, "a keep-awake connection")
			}
		}
	}()
	return &wg
}

// enterAwake runs a command inside while keepAwake wakes the machine.
func (im *idleMachine) enterAwake(t *testing.T, args ...string) (string, error) {
	t.Helper()
	stop := make(chan struct{})
	wg := im.keepAwake(t, stop)
	defer func() { close(stop); wg.Wait() }()
	return im.Enter(60*time.Second, args...)
}

// checkSane checks that the machine went through its freezes unharmed:
// systemd inside runs with no failed unit.
func (im *idleMachine) checkSane(t *testing.T) {
	t.Helper()
	if out, err := im.enterAwake(t, "systemctl", "--failed", "--no-legend", "--plain"); err != nil || out != "" {
		t.Errorf("failed units inside after the idle cycles: %q (error: %v)", out, err)
	}
	if out, _ := im.enterAwake(t, "systemctl", "is-system-running"); out != "running" {
		t.Errorf("systemctl is-system-running inside: %q, want running", out)
	}
}

// TestIdleFreezeCycles: with --idle-action=freeze, a client connects at
// random moments, half of them once the machine has frozen, across at
// least 20 freeze and wake cycles: every connection is answered, by the
// same container (it never boots again), and systemd inside is unharmed.
func TestIdleFreezeCycles(t *testing.T) {
	needSystemd(t)
	im := startIdleMachine(t, "freeze")
	leader := im.sockUseBoot(1)
	connections := 0
	for cycle := 1; im.statuses("Frozen since") < idleCycles+1; cycle++ {
		if cycle > 4*idleCycles {
			t.Fatalf("only %d freezes after %d rounds of connections", im.statuses("Frozen since"), cycle)
		}
		// A connection at a random moment: before, during or after the
		// freeze.
		time.Sleep(idleRandom(t, 2*time.Second))
		im.ask(t, "a connection at a random moment")
		connections++
		// One to a frozen machine: wait for the freeze, then a little.
		n := im.statuses("Frozen since")
		im.sockWaitNotifyN("STATUS=Frozen since", n+1, 30*time.Second)
		time.Sleep(idleRandom(t, 200*time.Millisecond))
		im.ask(t, "a connection to the frozen machine")
		connections++
	}
	freezes := im.statuses("Frozen since")
	t.Logf("%d connections, %d freezes, %d thaws logged", connections, freezes, strings.Count(im.Stderr.String(), "thawed"))
	if boots := len(im.sockNotifyLines("X_SOCKSPAWN_LEADER_PID=")); boots != 1 {
		t.Errorf("the container booted %d times, want once: a freeze keeps it", boots)
	}
	if !hostAlive(leader) {
		t.Errorf("the container's init (pid %d) is gone", leader)
	}
	im.checkSane(t)
	// Stopped while frozen: thawed, then shut down cleanly.
	im.waitFreeze(im.statuses("Frozen since") + 1)
	im.Signal(syscall.SIGTERM)
	if status := im.Wait(shutdownTimeout); status != 0 {
		t.Errorf("after SIGTERM to the frozen machine sockspawn exited with %d, want 0", status)
	}
	if i, _ := im.Notify.Index("STOPPING=1"); i < 0 {
		t.Errorf("no STOPPING=1 after SIGTERM to the frozen machine")
	}
}

// TestIdlePoweroffCycles: with --idle-action=poweroff and --listen, the
// machine shuts down cleanly when idle (status 0), sockspawn re-arms its
// socket, and the next connection boots it again. Across at least 20
// cycles a client connects at random moments: in every other cycle the
// moment the machine decides to power off (while its systemd stops its
// socket units), in the others just after the poweroff (while the next
// boot is not there yet); every connection is answered.
func TestIdlePoweroffCycles(t *testing.T) {
	needSystemd(t)
	im := startIdleMachine(t, "poweroff")
	const (
		again    = "exited with status 0; it boots again on the next connection"
		deciding = "powering off after 1s idle"
	)
	count := func(s string) int { return strings.Count(im.Stderr.String(), s) }
	connections, inWindow := 0, 0
	for round := 1; count(again) < idleCycles; round++ {
		if round > 3*idleCycles {
			t.Fatalf("only %d poweroffs after %d rounds of connections", count(again), round)
		}
		n, d := count(again), count(deciding)
		if round%2 == 0 {
			// During the poweroff: the next boot must serve it.
			im.sockWaitStderr(deciding, d+1, 60*time.Second)
			if count(again) == n {
				inWindow++
			}
			im.ask(t, "a connection while the machine powers off")
			connections++
			continue
		}
		im.sockWaitStderr(again, n+1, 60*time.Second)
		time.Sleep(idleRandom(t, 300*time.Millisecond))
		im.ask(t, "a connection after a poweroff")
		connections++
		time.Sleep(idleRandom(t, 2500*time.Millisecond))
		im.ask(t, "a connection at a random moment")
		connections++
	}
	n := count(again)
	boots := len(im.sockNotifyLines("X_SOCKSPAWN_LEADER_PID="))
	t.Logf("%d connections (%d sent while the container was still powering off), %d idle poweroffs, %d boots", connections, inWindow, n, boots)
	if strings.Count(im.Stderr.String(), "exited with status") != n {
		t.Errorf("a container ended with a status other than 0:\n%s", tail(im.Stderr.String(), 40))
	}
	if boots < n {
		t.Errorf("%d boots for %d poweroffs: each poweroff's next connection should boot the container", boots, n)
	}
	if inWindow == 0 {
		// Not a failure of sockspawn's: a machine that powers off faster
		// than the test reads the log leaves the window untested.
		t.Logf("no connection was sent while the container powered off: that window went untested")
	}
	im.sockUseBoot(boots) // the leftover checks look at the last boot
	im.Signal(syscall.SIGTERM)
	if status := im.Wait(shutdownTimeout); status != 0 {
		t.Errorf("after SIGTERM sockspawn exited with %d, want 0", status)
	}
}

// TestIdleFreezeWatchdog: a service with WatchdogSec= inside survives a
// freeze longer than its watchdog limit (journald's is 3min): the clock
// runs on while the container is frozen, and its pings do not.
func TestIdleFreezeWatchdog(t *testing.T) {
	needSystemd(t)
	port := sockPort(t)
	unitBind := sockUnitDir(t, sockUnit{Name: "echo", Listen: loopback(port), Greeting: "hello"})
	dir := strings.TrimSuffix(strings.TrimPrefix(unitBind, "--bind-ro="), ":/etc/systemd/system")
	writeFile(t, filepath.Join(dir, "dog.service"), `[Service]
Type=notify
NotifyAccess=all
WatchdogSec=2s
ExecStart=/bin/sh -c 'systemd-notify --ready; while :; do systemd-notify WATCHDOG=1; sleep 0.3; done'
`)
	// Wanted by multi-user.target: sockets.target would be ordered after
	// it, and it after basic.target, a cycle systemd breaks by dropping it.
	if err := os.Mkdir(filepath.Join(dir, "multi-user.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../dog.service", filepath.Join(dir, "multi-user.target.wants", "dog.service")); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--idle-action=freeze", "--idle-action-sec=" + idlePeriod}, sockBootArgs(unitBind)...)
	m := startSockActivated(t, viaListen, []sockAddr{{Name: "echo", Addr: loopback(port)}}, args)
	im := &idleMachine{machine: m, port: port, want: "hello from " + m.Name}
	im.ask(t, "the first connection")
	im.sockUseBoot(1)
	im.waitFreeze(1)
	time.Sleep(4 * time.Second) // frozen for twice the watchdog limit
	im.ask(t, "the connection after a long freeze")
	out, err := im.enterAwake(t, "systemctl", "show", "dog.service", "-p", "ActiveState", "-p", "Result", "-p", "NRestarts")
	if err != nil || !strings.Contains(out, "ActiveState=active") || !strings.Contains(out, "Result=success") || !strings.Contains(out, "NRestarts=0") {
		j, _ := im.enterAwake(t, "journalctl", "-b", "--no-pager", "-u", "dog.service")
		t.Errorf("dog.service (WatchdogSec=2s) after a 4s freeze: %q (%v); want active, success, never restarted; its journal:\n%s", out, err, j)
	}
	im.checkSane(t)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
