//go:build linux

package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// idleQuiet is how long a test watches a machine that must stay awake:
// four periods, more than enough for a freeze if one were due.
const idleQuiet = 4 * time.Second

// idleWaitFreeze waits for the machine's n-th freeze.
func (im *idleMachine) waitFreeze(n int) {
	im.t.Helper()
	im.sockWaitNotifyN("STATUS=Frozen since", n, 30*time.Second)
}

// stayAwake fails the test if the machine freezes within idleQuiet.
func (im *idleMachine) stayAwake(t *testing.T, why string) {
	t.Helper()
	n := im.statuses("Frozen since")
	time.Sleep(idleQuiet)
	if got := im.statuses("Frozen since"); got != n {
		t.Errorf("the machine froze while %s", why)
	}
}

// idleHoldUnit adds to the units directory of unitBind a socket unit
// "hold" on addr whose service echoes what it reads, holding each
// connection open until the client closes it.
func idleHoldUnit(t *testing.T, unitBind, addr string) {
	t.Helper()
	dir := strings.TrimSuffix(strings.TrimPrefix(unitBind, "--bind-ro="), ":/etc/systemd/system")
	for name, text := range map[string]string{
		"hold.socket":   "[Socket]\nListenStream=" + addr + "\nAccept=yes\n",
		"hold@.service": "[Service]\nExecStart=/bin/cat\nStandardInput=socket\nStandardOutput=socket\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../hold.socket", filepath.Join(dir, "sockets.target.wants", "hold.socket")); err != nil {
		t.Fatal(err)
	}
}

// TestIdleSignals: each thing that keeps a machine awake does, and once it
// is gone the machine freezes: an open connection (idle on the wire), the
// busy hold taken inside with flock, and a connection waiting in the
// accept queue of a socket nothing inside accepts from.
func TestIdleSignals(t *testing.T) {
	needSystemd(t)
	port, holdPort, spare := sockPort(t), sockPort(t), sockPort(t)
	unitBind := sockUnitDir(t, sockUnit{Name: "echo", Listen: loopback(port), Greeting: "hello"})
	idleHoldUnit(t, unitBind, loopback(holdPort))
	args := append([]string{"--idle-action=freeze", "--idle-action-sec=" + idlePeriod}, sockBootArgs(unitBind)...)
	m := startSockActivated(t, viaListen, []sockAddr{
		{Name: "echo", Addr: loopback(port)}, {Name: "hold", Addr: loopback(holdPort)}, {Name: "spare", Addr: loopback(spare)},
	}, args)
	im := &idleMachine{machine: m, port: port, want: "hello from " + m.Name}
	im.ask(t, "the first connection")
	im.sockUseBoot(1)
	im.waitFreeze(1)

	// An open connection, with nothing sent on it.
	conn, err := sockDial(loopback(holdPort), idleAnswerTimeout)
	if err != nil {
		t.Fatalf("connect to the hold socket: %v", err)
	}
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := readLine(conn); err != nil || got != "ping" {
		t.Fatalf("the hold service echoed %q (%v), want ping", got, err)
	}
	im.stayAwake(t, "a connection was open")
	conn.Close()
	im.waitFreeze(2)

	// The busy hold, taken while the machine is frozen; a connection
	// wakes it, and the hold keeps it awake.
	held := make(chan error, 1)
	go func() {
		_, err := im.Enter(60*time.Second, "flock", "--shared", "/run/host/busy", "sleep", strconv.Itoa(int(2*idleQuiet/time.Second)))
		held <- err
	}()
	time.Sleep(500 * time.Millisecond) // nsenter and flock start (not judged: a late lock fails safe below)
	im.ask(t, "a connection while the hold is taken")
	im.stayAwake(t, "/run/host/busy was locked inside")
	if err := <-held; err != nil {
		t.Errorf("flock --shared /run/host/busy inside: %v", err)
	}
	im.waitFreeze(3)

	// A connection nothing accepts: systemd inside has no unit for the
	// spare socket, and the connection waits in its queue.
	queued, err := sockDial(loopback(spare), idleAnswerTimeout)
	if err != nil {
		t.Fatalf("connect to the spare socket: %v", err)
	}
	defer queued.Close()
	im.stayAwake(t, "a connection waited in an accept queue")
	im.ask(t, "a connection after the queued one")
}

// TestIdleDatagram: a datagram socket keeps the machine awake while a
// datagram waits in its queue, and one arriving wakes a frozen machine.
func TestIdleDatagram(t *testing.T) {
	needSystemd(t)
	port, dgram := sockPort(t), sockPort(t)
	unitBind := sockUnitDir(t, sockUnit{Name: "echo", Listen: loopback(port), Greeting: "hello"})
	args := append([]string{"--idle-action=freeze", "--idle-action-sec=" + idlePeriod}, sockBootArgs(unitBind)...)
	m := startSockActivated(t, viaListen, []sockAddr{
		{Name: "echo", Addr: loopback(port)}, {Name: "dgram", Addr: "datagram:" + loopback(dgram)},
	}, args)
	im := &idleMachine{machine: m, port: port, want: "hello from " + m.Name}
	im.ask(t, "the first connection")
	im.sockUseBoot(1)
	im.waitFreeze(1)
	c, err := net.Dial("udp4", loopback(dgram))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("wake up")); err != nil {
		t.Fatal(err)
	}
	im.sockWaitNotifyN("STATUS=Busy", 2, 30*time.Second) // the first came at the start
	im.stayAwake(t, "a datagram waited in the queue")
}

// readLine reads one line from conn.
func readLine(conn net.Conn) (string, error) {
	_ = conn.SetReadDeadline(time.Now().Add(idleAnswerTimeout))
	var b []byte
	buf := make([]byte, 1)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if buf[0] == '\n' {
				return string(b), nil
			}
			b = append(b, buf[0])
		}
		if err != nil {
			return string(b), err
		}
	}
}

// TestIdleOperator: `sockspawn freeze NAME` freezes a running machine at
// once (its period is long), its next connection thaws it; `sockspawn thaw
// NAME` thaws it; a busy machine is not frozen, and the command says so.
func TestIdleOperator(t *testing.T) {
	needSystemd(t)
	port, holdPort := sockPort(t), sockPort(t)
	unitBind := sockUnitDir(t, sockUnit{Name: "echo", Listen: loopback(port), Greeting: "hello"})
	idleHoldUnit(t, unitBind, loopback(holdPort))
	args := append([]string{"--idle-action=freeze", "--idle-action-sec=1h"}, sockBootArgs(unitBind)...)
	m := startSockActivated(t, viaListen, []sockAddr{{Name: "echo", Addr: loopback(port)}, {Name: "hold", Addr: loopback(holdPort)}}, args)
	im := &idleMachine{machine: m, port: port, want: "hello from " + m.Name}
	im.ask(t, "the first connection")
	im.sockUseBoot(1)
	m.WaitNotify("READY=1", bootTimeout)
	run := func(want int, cmd string, say ...string) {
		t.Helper()
		status, stdout, stderr := sockRun(t, 60*time.Second, cleanEnv(), nil, sockspawnBin, cmd, m.Name)
		if status != want {
			t.Errorf("sockspawn %s %s: exit status %d, want %d; stdout %q, stderr %q", cmd, m.Name, status, want, stdout, stderr)
		}
		for _, s := range say {
			if !strings.Contains(stdout+stderr, s) {
				t.Errorf("sockspawn %s %s: the output does not say %q: %q", cmd, m.Name, s, stdout+stderr)
			}
		}
	}
	run(0, "freeze", "frozen")
	// The command returns once the cgroup is frozen; the supervisor then
	// reads the sockets once more, and a connection that came meanwhile
	// would thaw the machine at once ("thawed: a connection came in while
	// it froze"). So the connection comes once the freeze is settled.
	im.waitFreeze(1)
	im.ask(t, "a connection to the machine frozen by hand")
	run(0, "freeze", "frozen")
	run(0, "thaw", "thawed")
	if m.hasExited() {
		t.Fatal("sockspawn exited")
	}

	// Busy: an open connection.
	conn, err := sockDial(loopback(holdPort), idleAnswerTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := readLine(conn); err != nil || got != "ping" {
		t.Fatalf("the hold service echoed %q (%v)", got, err)
	}
	run(1, "freeze", "did not freeze", "busy")
	im.ask(t, "a connection after the refused freeze")

	status, _, stderr := sockRun(t, 30*time.Second, cleanEnv(), nil, sockspawnBin, "freeze", "e2e-not-running")
	if status != 1 || !strings.Contains(stderr, "not running") {
		t.Errorf("sockspawn freeze of a machine that is not running: status %d, stderr %q; want 1 and \"not running\"", status, stderr)
	}
}

// TestIdleGuestWake: a frozen machine wakes for a connection to the
// container's own sockets too, not only to those sockspawn watches:
// systemctl inside (what systemctl -M and machinectl shell reach) does
// not hang on a frozen machine.
func TestIdleGuestWake(t *testing.T) {
	needSystemd(t)
	im := startIdleMachine(t, "freeze")
	im.sockUseBoot(1)
	for i := 1; i <= 3; i++ {
		im.waitFreeze(i)
		// Not enterAwake: nothing but systemctl's own connection may
		// wake the machine here.
		out, err := im.Enter(idleAnswerTimeout, "systemctl", "show", "-p", "SystemState", "--value")
		if err != nil || out != "running" {
			t.Fatalf("systemctl inside the frozen machine (freeze %d): %q, %v; want running", i, out, err)
		}
	}
}

// TestIdleUnixSocket: the same for an AF_UNIX stream socket: an open
// connection keeps the machine awake, and a connection to the frozen
// machine wakes it and is answered.
func TestIdleUnixSocket(t *testing.T) {
	needSystemd(t)
	port := sockPort(t)
	path := filepath.Join(sockDir(t), "hold.sock")
	unitBind := sockUnitDir(t, sockUnit{Name: "echo", Listen: loopback(port), Greeting: "hello"})
	idleHoldUnit(t, unitBind, path)
	args := append([]string{"--idle-action=freeze", "--idle-action-sec=" + idlePeriod}, sockBootArgs(unitBind)...)
	m := startSockActivated(t, viaListen, []sockAddr{{Name: "echo", Addr: loopback(port)}, {Name: "hold", Addr: path}}, args)
	im := &idleMachine{machine: m, port: port, want: "hello from " + m.Name}
	im.ask(t, "the first connection")
	im.sockUseBoot(1)
	im.waitFreeze(1)

	// A connection to the frozen machine's unix socket wakes it, and
	// stays open: the machine stays awake.
	conn, err := net.DialTimeout("unix", path, idleAnswerTimeout)
	if err != nil {
		t.Fatalf("connect to %s: %v", path, err)
	}
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := readLine(conn); err != nil || got != "ping" {
		t.Fatalf("the hold service on %s echoed %q (%v), want ping", path, got, err)
	}
	im.stayAwake(t, "a unix connection was open")
	conn.Close()
	im.waitFreeze(2)
}
