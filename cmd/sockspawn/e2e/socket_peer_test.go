//go:build linux

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Helpers of the socket-activation tests (socket_*_test.go): the two
// ways of putting sockets in front of sockspawn, the socket units the
// booted container gets, the clients, and the sockcheck payload
// (./testdata/sockcheck).

// sockActivator says who binds the listening sockets.
type sockActivator string

const (
	// viaSocketActivate: systemd-socket-activate binds them and, on the
	// first connection, execs sockspawn with LISTEN_FDS.
	viaSocketActivate sockActivator = "socket-activate"
	// viaListen: sockspawn binds them itself (--listen) and boots on the
	// first connection, re-arming when the container ends by itself.
	viaListen sockActivator = "listen"
)

var sockActivators = []sockActivator{viaSocketActivate, viaListen}

// sockAddr is one named listening socket.
type sockAddr struct {
	Name string // fd name (LISTEN_FDNAMES); all empty: no names given
	Addr string // 127.0.0.1:PORT or an absolute path
}

// startSockActivated starts `sockspawn run -M NAME ARGS...` behind the
// sockets, with a notify receiver, and waits until they listen. It does
// not connect: the first connection is the test's.
func startSockActivated(t *testing.T, how sockActivator, socks []sockAddr, args []string) *machine {
	t.Helper()
	var m *machine
	switch how {
	case viaSocketActivate:
		sockNeedTool(t, "systemd-socket-activate")
		names := make([]string, len(socks))
		for i, s := range socks {
			names[i] = s.Name
		}
		m = startSockWrapped(t, runSpec{Args: args, Notify: true}, nil, func(m *machine) []string {
			w := []string{"systemd-socket-activate"}
			for _, s := range socks {
				w = append(w, "-l", s.Addr)
			}
			if strings.Join(names, "") != "" {
				w = append(w, "--fdname="+strings.Join(names, ":"))
			}
			// systemd-socket-activate passes on only the environment
			// it is told to.
			return append(w, "-E", "NOTIFY_SOCKET="+m.Notify.Path)
		})
		for _, s := range socks {
			m.sockWaitStderr("Listening on "+s.Addr+" ", 1, 10*time.Second)
		}
	case viaListen:
		var listen []string
		for _, s := range socks {
			listen = append(listen, "--listen="+s.Name+"="+s.Addr)
		}
		m = startMachine(t, runSpec{Args: append(listen, args...), Notify: true})
		m.sockWaitStderr("waiting for the first connection", 1, 10*time.Second)
	default:
		t.Fatalf("unknown sockActivator %q", how)
	}
	return m
}

// startSockWrapped is startMachine with `sockspawn run -M NAME ARGS...` run
// by another program: wrap returns that program's argv (it may use
// m.Notify) and the program must exec sockspawn, so that sockspawn has
// its pid. extra become fds 3, 4, ….
func startSockWrapped(t *testing.T, spec runSpec, extra []*os.File, wrap func(*machine) []string) *machine {
	t.Helper()
	m := &machine{t: t, Name: spec.Name, exited: make(chan struct{}), status: -1}
	if m.Name == "" {
		m.Name = newMachineName(t)
	}
	env := append(cleanEnv(), spec.Env...)
	if spec.Notify {
		m.Notify = newNotifyReceiver(t)
		env = append(env, "NOTIFY_SOCKET="+m.Notify.Path)
	}
	argv := append(wrap(m), sockspawnBin, "run", "-M", m.Name)
	argv = append(argv, spec.Args...)
	m.cmd = exec.Command(argv[0], argv[1:]...)
	m.cmd.Env = env
	m.cmd.ExtraFiles = extra
	m.cmd.Stdout, m.cmd.Stderr = &m.Stdout, &m.Stderr
	t.Logf("%s", strings.Join(argv, " "))
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	go func() {
		_ = m.cmd.Wait()
		m.status = m.cmd.ProcessState.ExitCode()
		close(m.exited)
	}()
	t.Cleanup(m.cleanup)
	return m
}

// sockNeedTool skips or fails t when a program is not installed.
func sockNeedTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		missing(t, name)
	}
}

// sockWaitStderr waits until sockspawn's standard error holds substr at
// least n times.
func (m *machine) sockWaitStderr(substr string, n int, timeout time.Duration) {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(m.Stderr.String(), substr) < n {
		if time.Now().After(deadline) || m.hasExited() {
			m.t.Fatalf("waiting for %q (%d times) on stderr: not there after %v (exit status %d); stderr:\n%s",
				substr, n, timeout, m.exitStatus(), tail(m.Stderr.String(), 20))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sockNotifyLines returns the notify lines starting with prefix, in order.
func (m *machine) sockNotifyLines(prefix string) []string {
	var out []string
	for _, msg := range m.Notify.Messages() {
		for _, l := range msg.Lines() {
			if strings.HasPrefix(l, prefix) {
				out = append(out, l)
			}
		}
	}
	return out
}

// sockWaitNotifyN waits for the n-th notify line starting with prefix and
// returns it.
func (m *machine) sockWaitNotifyN(prefix string, n int, timeout time.Duration) string {
	m.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.Notify.mu.Lock()
		wake := m.Notify.wake
		m.Notify.mu.Unlock()
		if ls := m.sockNotifyLines(prefix); len(ls) >= n {
			return ls[n-1]
		}
		select {
		case <-wake:
		case <-m.exited:
			time.Sleep(50 * time.Millisecond)
			if ls := m.sockNotifyLines(prefix); len(ls) >= n {
				return ls[n-1]
			}
			m.t.Fatalf("sockspawn exited with %d before notify line #%d %q\nnotify messages:\n%s\nstderr:\n%s", m.status, n, prefix, m.Notify, tail(m.Stderr.String(), 20))
		case <-deadline.C:
			m.t.Fatalf("no notify line #%d %q within %v\nnotify messages:\n%s\nstderr:\n%s", n, prefix, timeout, m.Notify, tail(m.Stderr.String(), 20))
		}
	}
}

// sockUseBoot waits for the n-th boot's X_SOCKSPAWN_LEADER_PID and makes
// that container's init the one Enter and the leftover checks use. It
// returns the init's host pid.
func (m *machine) sockUseBoot(n int) int {
	m.t.Helper()
	l := m.sockWaitNotifyN("X_SOCKSPAWN_LEADER_PID=", n, bootTimeout)
	pid, err := strconv.Atoi(strings.TrimPrefix(l, "X_SOCKSPAWN_LEADER_PID="))
	if err != nil || pid <= 1 {
		m.t.Fatalf("bad leader pid line %q", l)
	}
	m.leader = pid
	ns, err := m.pinPidNS(pid)
	if err != nil {
		m.t.Fatalf("boot #%d: the container's init (pid %d): %v", n, pid, err)
	}
	m.leaderNS = ns
	return pid
}

// sockPortNext is the next port sockPort tries; it starts at a random offset
// in 18000-19799, so that two runs of this package at once are unlikely
// to meet.
var (
	sockPortMu   sync.Mutex
	sockPortNext int
)

// sockPort returns a port in 18000-19999 that is free on 127.0.0.1 for
// both TCP and UDP, and that no other test of this run got.
func sockPort(t *testing.T) int {
	t.Helper()
	sockPortMu.Lock()
	defer sockPortMu.Unlock()
	if sockPortNext == 0 {
		off, err := rand.Int(rand.Reader, big.NewInt(1800))
		if err != nil {
			t.Fatal(err)
		}
		sockPortNext = 18000 + int(off.Int64())
	}
	for range 200 {
		p := sockPortNext
		sockPortNext++
		if sockPortNext >= 20000 {
			sockPortNext = 18000
		}
		addr := "127.0.0.1:" + strconv.Itoa(p)
		l, err := net.Listen("tcp4", addr)
		if err != nil {
			continue
		}
		l.Close()
		u, err := net.ListenPacket("udp4", addr)
		if err != nil {
			continue
		}
		u.Close()
		return p
	}
	t.Fatal("no free port in 18000-19999 on 127.0.0.1")
	return 0
}

// loopback is 127.0.0.1:port.
func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// sockDir returns a directory for unix sockets whose paths fit in a
// socket address.
func sockDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 80 {
		d, err := os.MkdirTemp("", "e2e-sock-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	return dir
}

// sockRandomWord is 8 hex digits, for abstract socket names.
func sockRandomWord(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// sockUnit is a socket unit for the booted container: NAME.socket with
// Accept=yes listens on Listen and NAME@.service answers each connection
// with "GREETING from HOSTNAME" and closes it.
type sockUnit struct {
	Name     string
	Listen   string // ListenStream=
	Greeting string
}

// sockUnitDir writes the units into a directory meant to be bound over the
// container's /etc/systemd/system, each socket wanted by sockets.target,
// and returns the --bind-ro argument.
//
// The socket units lift systemd's guards against floods, which the
// backlog test is: MaxConnections= (64 by default; more are dropped at
// once) and the trigger rate limit (200 per 2 s for Accept=yes, after
// which the socket unit fails).
func sockUnitDir(t *testing.T, units ...sockUnit) string {
	t.Helper()
	dir := t.TempDir()
	wants := filepath.Join(dir, "sockets.target.wants")
	if err := os.Mkdir(wants, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		socket := fmt.Sprintf(`[Unit]
Description=e2e socket %[1]s

[Socket]
ListenStream=%[2]s
Accept=yes
MaxConnections=1024
MaxConnectionsPerSource=1024
TriggerLimitIntervalSec=0
`, u.Name, u.Listen)
		service := fmt.Sprintf(`[Unit]
Description=e2e answer on %[1]s.socket

[Service]
ExecStart=/bin/sh -c 'echo "%[2]s from $(hostname)"'
StandardInput=socket
StandardOutput=socket
`, u.Name, u.Greeting)
		if err := os.WriteFile(filepath.Join(dir, u.Name+".socket"), []byte(socket), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, u.Name+"@.service"), []byte(service), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../"+u.Name+".socket", filepath.Join(wants, u.Name+".socket")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return "--bind-ro=" + dir + ":/etc/systemd/system"
}

// sockBootArgs are the arguments that boot this machine's own systemd with
// the units in unitBind.
func sockBootArgs(unitBind string) []string {
	return []string{"-D", "/", "--volatile=yes", "-b", "--console=passive", unitBind, "--", "systemd.firstboot=off"}
}

// sockAsk connects to addr (tcp4 HOST:PORT) and reads until the server
// closes the connection.
func sockAsk(addr string, timeout time.Duration) (string, error) {
	conn, err := sockDial(addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return sockReadAll(conn, timeout)
}

func sockDial(addr string, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp4", addr, timeout)
}

// sockReadAll reads conn to its end, for at most timeout.
func sockReadAll(conn net.Conn, timeout time.Duration) (string, error) {
	_ = conn.SetDeadline(time.Now().Add(timeout))
	b, err := io.ReadAll(conn)
	return string(b), err
}

// sockFailureKind names how a connection failed, for reports.
func sockFailureKind(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "no answer (closed at once)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	default:
		return err.Error()
	}
}

// sockListenerInode returns the inode of the TCP socket listening on
// 127.0.0.1:port, from /proc/net/tcp, or "" if there is none.
func sockListenerInode(t *testing.T, port int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 9 && f[1] == want && f[3] == "0A" {
			return f[9]
		}
	}
	return ""
}

// sockHolds reports whether process pid has the socket with inode open.
func sockHolds(pid int, inode string) bool {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && l == "socket:["+inode+"]" {
			return true
		}
	}
	return false
}

// sockcheck is the payload of ./testdata/sockcheck, built once; its
// directory is bound into containers at sockcheckDir.
const (
	sockcheckDir  = "/opt/sockcheck"
	sockcheckPath = sockcheckDir + "/sockcheck"
)

// sockcheckBind builds the sockcheck payload if needed and returns the
// --bind-ro argument that shows it at sockcheckPath.
func sockcheckBind(t *testing.T) string {
	t.Helper()
	return "--bind-ro=" + helperBinary(t, "sockcheck", "github.com/sockspawn/sockspawn/cmd/sockspawn/e2e/testdata/sockcheck") + ":" + sockcheckDir
}

// sockReport is what the sockcheck payload printed.
type sockReport struct {
	Raw  string
	PID  int
	Env  map[string]string // LISTEN_* that were set
	FDs  string            // the open fds, "0 1 2 3 4"
	Desc map[int]string    // fd (3 and up) -> its description
}

// parseSockReport reads the first report in out.
func parseSockReport(t *testing.T, out string) sockReport {
	t.Helper()
	r := sockReport{Raw: out, Env: map[string]string{}, Desc: map[int]string{}, PID: -1}
	seenPID := false
	for _, l := range lines(out) {
		key, rest, _ := strings.Cut(l, " ")
		switch key {
		case "pid":
			if seenPID {
				return r // a second run of the payload
			}
			seenPID = true
			r.PID, _ = strconv.Atoi(rest)
		case "env":
			if k, v, ok := strings.Cut(rest, "="); ok {
				r.Env[k] = v
			}
		case "fds":
			r.FDs = rest
		case "fd":
			n, desc, _ := strings.Cut(rest, " ")
			fd, _ := strconv.Atoi(n)
			r.Desc[fd] = desc
		}
	}
	if !seenPID || r.FDs == "" {
		t.Fatalf("no sockcheck report in:\n%s", tail(out, 30))
	}
	return r
}

// sockWantListenEnv checks what the payload got of the sd_listen_fds
// protocol: LISTEN_FDS=n, LISTEN_PID=1 (its own pid), LISTEN_FDNAMES=names
// (unset if names is ""), and exactly fds 0-2 and 3…3+n-1 open, described
// as desc says.
func sockWantListenEnv(t *testing.T, r sockReport, names string, desc []string) {
	t.Helper()
	n := len(desc)
	if r.PID != 1 {
		t.Errorf("the payload runs as pid %d, want 1", r.PID)
	}
	want := map[string]string{"LISTEN_FDS": strconv.Itoa(n), "LISTEN_PID": "1", "LISTEN_FDNAMES": names}
	for _, k := range []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} {
		got, ok := r.Env[k]
		switch {
		case k == "LISTEN_FDNAMES" && names == "":
			if ok {
				t.Errorf("the payload has LISTEN_FDNAMES=%s, want it unset as sockspawn got it: the names must pass on unchanged (sd_listen_fds_with_names reads unset as \"unknown\", but go-systemd's activation.Files then names the files LISTEN_FD_3, …)", got)
			}
		case !ok:
			t.Errorf("the payload has no %s, want %s=%s", k, k, want[k])
		case got != want[k]:
			t.Errorf("the payload has %s=%s, want %s", k, got, want[k])
		}
	}
	fds := []string{"0", "1", "2"}
	for i := range n {
		fds = append(fds, strconv.Itoa(3+i))
	}
	if got := r.FDs; got != strings.Join(fds, " ") {
		t.Errorf("the payload's open fds are %q, want %q (stdio and the %d sockets); its report:\n%s", got, strings.Join(fds, " "), n, r.Raw)
	}
	for i, d := range desc {
		if got := r.Desc[3+i]; got != d {
			t.Errorf("fd %d is %q, want %q", 3+i, got, d)
		}
	}
}

// sockRun runs a command to its end with a timeout and returns its exit
// status, standard output and standard error.
func sockRun(t *testing.T, timeout time.Duration, env []string, extra []*os.File, argv ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.ExtraFiles = extra
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Logf("%s", strings.Join(argv, " "))
	_ = cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("%s: killed after %v", argv[0], timeout)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}
