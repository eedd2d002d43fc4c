//go:build linux

package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHostIdle boots an nspawn host (host_nspawn_test.go) and runs
// container@web.socket and container@web.service in it with each idle
// action, a client connecting at random moments across 20 idle and wake
// cycles: every connection is answered, and `systemctl status` shows the
// machine's idle state.
func TestHostIdle(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	h := startNspawnHost(t)
	for _, c := range []struct {
		name string
		run  func(*testing.T, *nspawnHost)
	}{
		{"freeze", testHostIdleFreeze},
		{"poweroff", testHostIdlePoweroff},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, h) })
	}
}

// hostIdleMachine configures machine web with the echo socket unit inside
// (as testHostSocket does) and the idle action, starts its socket and
// returns the address.
func hostIdleMachine(t *testing.T, h *nspawnHost, action string) string {
	t.Helper()
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	h.Must(t, "systemctl", "stop", "container@web.service", "container@web.socket")
	port := hostFreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	dir := "/etc/systemd/system/container@web.socket.d"
	t.Cleanup(func() {
		os.RemoveAll(h.Path(dir))
		h.Run(t, 30*time.Second, "systemctl", "daemon-reload")
	})
	h.WriteFile(t, dir+"/listen.conf", "[Socket]\nListenStream="+addr+"\n")
	h.WriteFile(t, hostEchoDir+"/echo.socket", fmt.Sprintf(hostEchoSocket, port))
	h.WriteFile(t, hostEchoDir+"/echo@.service", hostEchoService)
	h.WriteFile(t, "/etc/sockspawn/web.conf", `[Container]
Directory=/
Volatile=yes
Boot=yes
BindReadOnly=`+hostEchoDir+`/echo.socket:/etc/systemd/system/echo.socket
BindReadOnly=`+hostEchoDir+`/echo@.service:/etc/systemd/system/echo@.service
Parameters=systemd.firstboot=off systemd.wants=echo.socket
IdleAction=`+action+`
IdleActionSec=`+idlePeriod+`
`)
	h.Must(t, "systemctl", "daemon-reload")
	h.Must(t, "systemctl", "start", "container@web.socket")
	return addr
}

var hostWakeups = regexp.MustCompile(`^Frozen since [0-9:]+, ([0-9]+) wake-ups?\.$`)

// hostFrozen returns the wake-ups of a frozen machine web, or -1 if it
// is not frozen, from the STATUS= that `systemctl status` shows.
func hostFrozen(t *testing.T, h *nspawnHost) (int, string) {
	st := h.Show(t, "container@web.service", "StatusText")["StatusText"]
	m := hostWakeups.FindStringSubmatch(st)
	if m == nil {
		return -1, st
	}
	n, _ := strconv.Atoi(m[1])
	return n, st
}

// testHostIdleFreeze: IdleAction=freeze under systemd.
func testHostIdleFreeze(t *testing.T, h *nspawnHost) {
	addr := hostIdleMachine(t, h, "freeze")
	cursor := h.JournalCursor(t)
	want := "hello from web"
	if got := hostAsk(t, addr); got != want {
		t.Fatalf("the first connection: got %q, want %q", got, want)
	}
	hostWaitActive(t, h, "container@web.service")
	init := h.Machine(t, "web").Init
	for cycle := 0; cycle < idleCycles; cycle++ {
		hostWaitUntil(t, 30*time.Second, fmt.Sprintf("freeze #%d", cycle+1), func() (bool, string) {
			n, st := hostFrozen(t, h)
			return n >= cycle, st
		})
		time.Sleep(idleRandom(t, 200*time.Millisecond))
		if got := hostAsk(t, addr); got != want {
			t.Errorf("cycle %d: the connection to the frozen machine: got %q, want %q", cycle+1, got, want)
		}
		time.Sleep(idleRandom(t, 1500*time.Millisecond))
		if got := hostAsk(t, addr); got != want {
			t.Errorf("cycle %d: the connection at a random moment: got %q, want %q", cycle+1, got, want)
		}
	}
	hostWaitUntil(t, 30*time.Second, "the last freeze", func() (bool, string) {
		n, st := hostFrozen(t, h)
		return n >= idleCycles, st
	})
	n, st := hostFrozen(t, h)
	t.Logf("systemctl status container@web: %q", st)
	if m := h.Machine(t, "web"); m.Init != init {
		t.Errorf("the container's init changed from pid %d to %d: a freeze must keep the container", init, m.Init)
	}
	if machinedInstalled() {
		// systemctl -M reaches systemd inside through machined and the
		// container's own bus socket: it wakes the frozen machine.
		hostWaitUntil(t, 30*time.Second, "a freeze", func() (bool, string) {
			n, st := hostFrozen(t, h)
			return n >= 0, st
		})
		r := h.Run(t, idleAnswerTimeout, "systemctl", "-M", "web", "show", "-p", "SystemState", "--value")
		if strings.TrimSpace(r.Stdout) != "running" {
			t.Errorf("systemctl -M web on the frozen machine: %s; want running", r)
		}
	}
	if j := h.Journal(t, "container@web.service", cursor); strings.Count(j, "frozen after 1s idle") < n {
		t.Errorf("the journal tells of %d freezes, the status of %d wake-ups:\n%s", strings.Count(j, "frozen after 1s idle"), n, tail(j, 20))
	}
}

// testHostIdlePoweroff: IdleAction=poweroff under systemd: the service
// ends with success, the socket listens on, and its next connection
// starts the service again.
func testHostIdlePoweroff(t *testing.T, h *nspawnHost) {
	addr := hostIdleMachine(t, h, "poweroff")
	cursor := h.JournalCursor(t)
	want := "hello from web"
	for cycle := 0; cycle < idleCycles; cycle++ {
		time.Sleep(idleRandom(t, 300*time.Millisecond))
		if got := hostAsk(t, addr); got != want {
			t.Errorf("cycle %d: the connection after a poweroff: got %q, want %q", cycle+1, got, want)
		}
		time.Sleep(idleRandom(t, 2500*time.Millisecond))
		if got := hostAsk(t, addr); got != want {
			t.Errorf("cycle %d: the connection at a random moment: got %q, want %q", cycle+1, got, want)
		}
		hostWaitUntil(t, 60*time.Second, fmt.Sprintf("poweroff #%d", cycle+1), func() (bool, string) {
			p := h.Show(t, "container@web.service", "ActiveState", "Result", "ExecMainStatus")
			return p["ActiveState"] == "inactive", hostProps(p)
		})
		p := h.Show(t, "container@web.service", "Result", "ExecMainStatus")
		if p["Result"] != "success" || p["ExecMainStatus"] != "0" {
			t.Errorf("cycle %d: after the idle poweroff container@web.service: %s, want success, status 0", cycle+1, hostProps(p))
		}
		if s := h.Show(t, "container@web.socket", "SubState")["SubState"]; s != "listening" {
			t.Errorf("cycle %d: after the idle poweroff container@web.socket is %s, want listening", cycle+1, s)
		}
	}
	j := h.Journal(t, "container@web.service", cursor)
	if n := strings.Count(j, "powering off after 1s idle"); n < idleCycles {
		t.Errorf("the journal tells of %d idle poweroffs, want %d:\n%s", n, idleCycles, tail(j, 30))
	}
}
