//go:build linux

package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// The socket units the container gets through BindReadOnly=: echo.socket
// takes over the listening socket container@web.socket passed in (same
// address: systemd adopts a passed fd whose address matches), and answers
// each connection with the container's hostname.
const (
	hostEchoSocket = `[Unit]
Description=e2e: answers on the socket container@web.socket passes in

[Socket]
ListenStream=127.0.0.1:%d
Accept=yes
`
	hostEchoService = `[Unit]
Description=e2e: answer one connection

[Service]
ExecStart=/bin/sh -c 'echo "hello from $(hostname)"'
StandardInput=socket
StandardOutput=socket
`
	hostEchoDir = "/srv/sockspawn-e2e"
)

// testHostSocket: with container@web.socket and a TCP drop-in written by
// `sockspawn new`, the first connection boots the machine and is answered
// from inside by a socket unit that holds the very fd systemd bound; after
// `systemctl stop container@web.service` the socket listens again and the
// next connection boots the machine again.
func testHostSocket(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	h.Must(t, "systemctl", "stop", "container@web.service", "container@web.socket")
	port := hostFreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	dropIn := "/etc/systemd/system/container@web.socket.d/listen.conf"
	t.Cleanup(func() {
		os.RemoveAll(h.Path("/etc/systemd/system/container@web.socket.d"))
		h.Run(t, 30*time.Second, "systemctl", "daemon-reload")
	})

	// The earlier cases wrote /etc/sockspawn/web.conf: `new` must refuse
	// to overwrite it, and write both files with --force.
	h.WriteFile(t, "/etc/sockspawn/web.conf", hostMachineConfig)
	r := h.Run(t, 30*time.Second, "sockspawn", "new", "web", "--image", "/", "--listen", addr)
	if r.Status != 1 || !strings.Contains(r.Stderr, "/etc/sockspawn/web.conf") || !strings.Contains(r.Stderr, "--force") {
		t.Errorf("sockspawn new web over an existing web.conf: want exit status 1 and an error naming /etc/sockspawn/web.conf and --force, got %s", r)
	}
	if _, err := os.Lstat(h.Path(dropIn)); err == nil {
		t.Errorf("sockspawn new refused, yet wrote %s", dropIn)
	}
	out := h.Must(t, "sockspawn", "new", "web", "--image", "/", "--listen", addr, "--force")
	for _, want := range []string{"wrote /etc/sockspawn/web.conf", "wrote " + dropIn, "systemctl daemon-reload", "container@web.socket"} {
		if !strings.Contains(out, want) {
			t.Errorf("sockspawn new --force: the output has no %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(h.Path(dropIn)); err != nil || !strings.Contains(string(b), "\nListenStream="+addr+"\n") {
		t.Errorf("%s: want a line ListenStream=%s, got %q (%v)", dropIn, addr, b, err)
	}

	// The machine's configuration: `new` wrote Directory=/ Boot=yes; a
	// stateless boot of the host's OS needs Volatile=yes, and the
	// container gets echo.socket bound in and started at boot.
	h.WriteFile(t, hostEchoDir+"/echo.socket", fmt.Sprintf(hostEchoSocket, port))
	h.WriteFile(t, hostEchoDir+"/echo@.service", hostEchoService)
	h.WriteFile(t, "/etc/sockspawn/web.conf", `[Container]
Directory=/
Volatile=yes
Boot=yes
BindReadOnly=`+hostEchoDir+`/echo.socket:/etc/systemd/system/echo.socket
BindReadOnly=`+hostEchoDir+`/echo@.service:/etc/systemd/system/echo@.service
Parameters=systemd.firstboot=off systemd.wants=echo.socket
`)
	h.Must(t, "systemctl", "daemon-reload")
	if r := h.Run(t, 60*time.Second, "systemd-analyze", "verify", "container@web.socket"); r.Status != 0 {
		t.Errorf("systemd-analyze verify container@web.socket with the drop-in of sockspawn new: %s", r)
	}
	h.Must(t, "systemctl", "start", "container@web.socket")
	p := h.Show(t, "container@web.socket", "ActiveState", "SubState", "Listen")
	if p["SubState"] != "listening" || !strings.Contains(p["Listen"], addr+" (Stream)") {
		t.Fatalf("container@web.socket: %s; want listening on %s", hostProps(p), addr)
	}
	if s := h.Show(t, "container@web.service", "ActiveState")["ActiveState"]; s != "inactive" {
		t.Fatalf("container@web.service is %s before any connection, want inactive", s)
	}
	listener := hostListener(t, h, port)

	// The first connection boots the machine.
	if got := hostAsk(t, addr); got != "hello from web" {
		t.Errorf("the first connection to %s: got %q, want %q", addr, got, "hello from web")
	}
	hostWaitActive(t, h, "container@web.service")
	m := h.Machine(t, "web")
	e := m.Enter(30*time.Second, "systemctl", "show", "echo.socket", "-p", "ActiveState", "-p", "NAccepted")
	if !strings.Contains(e.Stdout, "ActiveState=active") || strings.Contains(e.Stdout, "NAccepted=0") {
		t.Errorf("echo.socket inside the container: %s; want it active, having accepted the connection", e)
	}
	// One socket listens on the port, systemd's, and the container's
	// init holds it: echo.socket adopted the fd, it did not bind anew.
	if again := hostListener(t, h, port); again != listener {
		t.Errorf("the listening socket on %s changed from socket:[%s] to socket:[%s] while the container started", addr, listener, again)
	}
	if !hostHoldsFD(m.Init, listener) {
		t.Errorf("the container's init (pid %d) holds no fd of the listening socket socket:[%s]; its sockets: %v", m.Init, listener, hostSocketFDs(m.Init))
	}
	if !hostHoldsFD(h.Leader, listener) {
		t.Errorf("the nspawn host's systemd no longer holds socket:[%s]", listener)
	}

	t.Logf("%s: answered %q; socket:[%s] is held by the nspawn host's systemd and the container's init (pid %d); inside: %s",
		addr, "hello from web", listener, m.Init, strings.Join(strings.Fields(e.Stdout), " "))

	// Stopping the service leaves the socket listening, and the next
	// connection boots the machine again.
	h.Must(t, "systemctl", "stop", "container@web.service")
	p = h.Show(t, "container@web.socket", "ActiveState", "SubState")
	if p["ActiveState"] != "active" || p["SubState"] != "listening" {
		t.Errorf("after systemctl stop container@web.service the socket is %s, want active (listening)", hostProps(p))
	}
	if s := h.Show(t, "container@web.service", "ActiveState", "Result"); s["ActiveState"] != "inactive" || s["Result"] != "success" {
		t.Errorf("after systemctl stop: container@web.service %s, want inactive, success", hostProps(s))
	}
	if again := hostListener(t, h, port); again != listener {
		t.Errorf("after the stop the socket on %s is socket:[%s], want systemd's socket:[%s] again", addr, again, listener)
	}
	if got := hostAsk(t, addr); got != "hello from web" {
		t.Errorf("the connection after the stop: got %q, want %q", got, "hello from web")
	}
	hostWaitActive(t, h, "container@web.service")
	if m2 := h.Machine(t, "web"); m2.Init == m.Init || !hostHoldsFD(m2.Init, listener) {
		t.Errorf("after the second connection: init pid %d (before %d), holds socket:[%s]: %v; want a new container holding it", m2.Init, m.Init, listener, hostHoldsFD(m2.Init, listener))
	}
}

// hostFreePort returns a TCP port on 127.0.0.1 that nothing listens on.
// The nspawn host shares the test's network namespace.
func hostFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// hostAsk connects to addr and returns the first line of the answer.
func hostAsk(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Errorf("connect to %s: %v", addr, err)
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(bootTimeout))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Errorf("read from %s: %v (got %q)", addr, err, b)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return first
}

// hostWaitActive waits until unit is active.
func hostWaitActive(t *testing.T, h *nspawnHost, unit string) {
	t.Helper()
	hostWaitUntil(t, bootTimeout, unit+" active", func() (bool, string) {
		p := h.Show(t, unit, "ActiveState", "SubState")
		return p["ActiveState"] == "active", hostProps(p)
	})
}

// hostListener returns the inode of the one socket listening on
// 127.0.0.1:port in the nspawn host's network namespace.
func hostListener(t *testing.T, h *nspawnHost, port int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", h.Leader))
	if err != nil {
		t.Fatal(err)
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	var inodes []string
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 9 && f[1] == local && f[3] == "0A" { // TCP_LISTEN
			inodes = append(inodes, f[9])
		}
	}
	if len(inodes) != 1 {
		t.Fatalf("sockets listening on 127.0.0.1:%d: %v, want exactly one", port, inodes)
	}
	return inodes[0]
}

// hostSocketFDs lists the sockets process pid holds, as fd -> socket:[N].
func hostSocketFDs(pid int) []string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			out = append(out, e.Name()+"->"+l)
		}
	}
	return out
}

// hostHoldsFD reports whether process pid has an fd of socket inode.
func hostHoldsFD(pid int, inode string) bool {
	for _, s := range hostSocketFDs(pid) {
		if strings.HasSuffix(s, "->socket:["+inode+"]") {
			return true
		}
	}
	return false
}
