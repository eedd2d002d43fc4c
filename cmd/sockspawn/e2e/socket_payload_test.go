//go:build linux

package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sockPayloadArgs run the sockcheck payload as the container's init, without
// -b; answer makes it answer the first connection with its report. No -q:
// the tests wait for sockspawn's "waiting for the first connection".
func sockPayloadArgs(t *testing.T, answer bool) []string {
	args := []string{"-D", "/", "--volatile=yes", "--console=pipe", sockcheckBind(t), "--", sockcheckPath}
	if answer {
		args = append(args, "-answer")
	}
	return args
}

// TestSocketPayloadNames: a command that is not an init gets the same
// protocol: LISTEN_FDS=2, LISTEN_PID=1, LISTEN_FDNAMES unchanged (also
// when the service manager gave no names), and no fd but stdio and the
// two sockets.
func TestSocketPayloadNames(t *testing.T) {
	needRoot(t)
	t.Parallel()
	for _, c := range []struct {
		name  string
		how   sockActivator
		names [2]string
	}{
		{"socket-activate", viaSocketActivate, [2]string{"web", "api"}},
		{"listen", viaListen, [2]string{"web", "api"}},
		{"socket-activate-unnamed", viaSocketActivate, [2]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			web, api := sockPort(t), sockPort(t)
			socks := []sockAddr{{Name: c.names[0], Addr: loopback(web)}, {Name: c.names[1], Addr: loopback(api)}}
			m := startSockActivated(t, c.how, socks, sockPayloadArgs(t, true))
			got, err := sockAsk(loopback(web), 30*time.Second)
			if err != nil {
				t.Fatalf("connection to %s: %v (got %q)", loopback(web), err, got)
			}
			r := parseSockReport(t, got)
			names := ""
			if c.names[0] != "" {
				names = strings.Join(c.names[:], ":")
			}
			sockWantListenEnv(t, r, names, []string{
				"socket family=inet type=stream listening=yes local=" + loopback(web),
				"socket family=inet type=stream listening=yes local=" + loopback(api),
			})
			sockFinishPayload(t, m, c.how)
		})
	}
}

// sockFinishPayload ends a machine whose payload has run once: behind
// systemd-socket-activate sockspawn ends with the payload's status 0;
// with --listen it re-arms once the payload has exited, and SIGTERM then
// ends it with 0.
func sockFinishPayload(t *testing.T, m *machine, how sockActivator) {
	t.Helper()
	if how == viaListen {
		m.sockWaitStderr("it boots again on the next connection", 1, 30*time.Second)
		m.Signal(syscall.SIGTERM)
	}
	if status := m.Wait(30 * time.Second); status != 0 {
		t.Errorf("sockspawn exited with %d, want 0; stderr:\n%s", status, tail(m.Stderr.String(), 20))
	}
	checkForwarded(t, m)
}

// TestSocketTypes: stream, datagram and seqpacket sockets, inet, inet6
// and unix (path and abstract), passed together, reach the payload in
// order with their type intact.
func TestSocketTypes(t *testing.T) {
	needRoot(t)
	t.Parallel()

	t.Run("listen", func(t *testing.T) {
		t.Parallel()
		port := sockPort(t)
		dir := sockDir(t)
		abstract := "@sockspawn-e2e-" + sockRandomWord(t)
		type sock struct{ spec, desc string }
		socks := []sock{
			{"tcp=" + loopback(port), "socket family=inet type=stream listening=yes local=" + loopback(port)},
			{"udp=datagram:" + loopback(port), "socket family=inet type=datagram listening=no local=" + loopback(port)},
			{"unix=" + dir + "/stream.sock", "socket family=unix type=stream listening=yes local=" + dir + "/stream.sock"},
			{"unixdg=datagram:" + dir + "/dgram.sock", "socket family=unix type=datagram listening=no local=" + dir + "/dgram.sock"},
			{"seq=seqpacket:" + abstract, "socket family=unix type=seqpacket listening=yes local=" + abstract},
		}
		names := "tcp:udp:unix:unixdg:seq"
		if l, err := net.Listen("tcp6", "[::1]:0"); err == nil {
			p := l.Addr().(*net.TCPAddr).Port
			l.Close()
			a := "[::1]:" + strconv.Itoa(p)
			socks = append(socks, sock{"v6=" + a, "socket family=inet6 type=stream listening=yes local=" + a})
			names += ":v6"
		} else {
			t.Logf("no IPv6 on lo (%v): the inet6 socket is left out", err)
		}
		var args, desc []string
		for _, s := range socks {
			args = append(args, "--listen="+s.spec)
			desc = append(desc, s.desc)
		}
		m := startMachine(t, runSpec{Notify: true, Args: append(args, sockPayloadArgs(t, true)...)})
		m.sockWaitStderr("waiting for the first connection", 1, 10*time.Second)
		got, err := sockAsk(loopback(port), 30*time.Second)
		if err != nil {
			t.Fatalf("connection to %s: %v (got %q)", loopback(port), err, got)
		}
		sockWantListenEnv(t, parseSockReport(t, got), names, desc)
		sockFinishPayload(t, m, viaListen)
	})

	// systemd-socket-activate binds sockets of one type at a time.
	for _, c := range []struct {
		name string
		flag string
		desc func(port int, path string) []string
		poke func(port int, path string) error
	}{
		{
			name: "socket-activate-datagram", flag: "--datagram",
			desc: func(port int, path string) []string {
				return []string{
					"socket family=inet type=datagram listening=no local=" + loopback(port),
					"socket family=unix type=datagram listening=no local=" + path,
				}
			},
			poke: func(port int, _ string) error {
				c, err := net.Dial("udp4", loopback(port))
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Write([]byte("wake up"))
				return err
			},
		},
		{
			name: "socket-activate-seqpacket", flag: "--seqpacket",
			desc: func(_ int, path string) []string {
				return []string{"socket family=unix type=seqpacket listening=yes local=" + path}
			},
			poke: func(_ int, path string) error {
				c, err := net.Dial("unixpacket", path)
				if err != nil {
					return err
				}
				// Held open until the payload has run; the kernel
				// closes it when the test process's fds are collected.
				go func() { time.Sleep(30 * time.Second); c.Close() }()
				return nil
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sockNeedTool(t, "systemd-socket-activate")
			port := sockPort(t)
			path := filepath.Join(sockDir(t), "sock")
			desc := c.desc(port, path)
			ssa := []string{"systemd-socket-activate", c.flag}
			var names []string
			if len(desc) == 2 {
				ssa = append(ssa, "-l", loopback(port))
				names = append(names, "inet")
			}
			ssa = append(ssa, "-l", path)
			names = append(names, "unix")
			ssa = append(ssa, "--fdname="+strings.Join(names, ":"))
			m := startSockWrapped(t, runSpec{Args: sockPayloadArgs(t, false), Notify: true}, nil, func(m *machine) []string {
				return append(ssa, "-E", "NOTIFY_SOCKET="+m.Notify.Path)
			})
			m.sockWaitStderr("Listening on "+path, 1, 10*time.Second)
			if err := c.poke(port, path); err != nil {
				t.Fatalf("waking systemd-socket-activate: %v", err)
			}
			if status := m.Wait(30 * time.Second); status != 0 {
				t.Errorf("sockspawn exited with %d, want the payload's 0; stderr:\n%s", status, tail(m.Stderr.String(), 20))
			}
			sockWantListenEnv(t, parseSockReport(t, m.Stdout.String()), strings.Join(names, ":"), desc)
			checkForwarded(t, m)
		})
	}
}

// TestSocketNotASocket: an inherited fd that is not a socket is refused
// with one line naming it, before anything is set up; fds meant for
// another process (LISTEN_PID not sockspawn's) are ignored and do not
// reach the container.
func TestSocketNotASocket(t *testing.T) {
	needRoot(t)
	t.Parallel()
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()
	l, err := net.Listen("tcp4", loopback(sockPort(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sock, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()

	// The shell sets LISTEN_PID to its own pid, which the exec'd
	// sockspawn keeps.
	const execSelf = `LISTEN_PID=$$ exec "$@"`
	const execOther = `LISTEN_PID=1 exec "$@"`
	for _, c := range []struct {
		name    string
		shell   string
		fds     []*os.File
		env     []string
		culprit string // "" if sockspawn must ignore the fds
	}{
		{name: "pipe at fd 3", shell: execSelf, fds: []*os.File{pipeR}, env: []string{"LISTEN_FDS=1"}, culprit: "fd 3"},
		{name: "pipe at fd 4 after a socket", shell: execSelf, fds: []*os.File{sock, pipeR}, env: []string{"LISTEN_FDS=2", "LISTEN_FDNAMES=web:pipe"}, culprit: "fd 4"},
		{name: "fds of another process", shell: execOther, fds: []*os.File{pipeR, sock}, env: []string{"LISTEN_FDS=2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := newMachineName(t)
			argv := append([]string{"/bin/sh", "-c", c.shell, "sh", sockspawnBin, "run", "-M", name}, sockPayloadArgs(t, false)...)
			status, stdout, stderr := sockRun(t, 30*time.Second, append(cleanEnv(), c.env...), c.fds, argv...)
			if c.culprit == "" {
				if status != 0 {
					t.Errorf("exit status %d, want the payload's 0; stderr:\n%s", status, stderr)
				}
				r := parseSockReport(t, stdout)
				for k, v := range r.Env {
					t.Errorf("the payload got %s=%s, which was meant for another process", k, v)
				}
				if r.FDs != "0 1 2" {
					t.Errorf("the payload's open fds are %q, want only \"0 1 2\": fds meant for another process leaked into the container; its report:\n%s", r.FDs, r.Raw)
				}
			} else {
				if status != 1 {
					t.Errorf("exit status %d, want 1", status)
				}
				errLines := lines(stderr)
				if len(errLines) != 1 || !strings.Contains(stderr, c.culprit) || !strings.Contains(stderr, "socket") {
					t.Errorf("want one line on stderr that names %s and says it is not a socket, got:\n%s", c.culprit, stderr)
				} else {
					t.Logf("stderr: %s", strings.TrimSpace(stderr))
				}
				if stdout != "" {
					t.Errorf("the payload ran (stdout %q), want sockspawn to stop before starting anything", stdout)
				}
			}
			checkLeftovers(t, name, 0, "")
		})
	}
}
