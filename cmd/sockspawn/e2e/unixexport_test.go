//go:build linux

package e2e

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// runtimeUnixExport is where the host sees each machine's
// /run/host/unix-export.
const runtimeUnixExport = "/run/sockspawn/unix-export"

// TestUnixExport: a service of the booted systemd inside binds an AF_UNIX
// socket in /run/host/unix-export/; a host process connects to it at
// /run/sockspawn/unix-export/NAME/ and is answered from inside. The host
// side is read-only, the container side writable and the container's
// root's. A leftover directory of an earlier run (a killed sockspawn) does
// not reach the next boot, and nothing is left on the host after the stop.
func TestUnixExport(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	name := newMachineName(t)
	hostDir := filepath.Join(runtimeUnixExport, name)

	// What a sockspawn killed with SIGKILL leaves: its tmpfs, with a
	// dead socket in it.
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", hostDir, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // only if the test failed before sockspawn took it away
		_ = unix.Unmount(hostDir, unix.MNT_DETACH)
		_ = os.Remove(hostDir)
	})
	if err := os.WriteFile(filepath.Join(hostDir, "stale"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	m := startMachine(t, runSpec{Name: name, Notify: true, Args: append(volatileHost(), "-b", "--console=passive", "--", "systemd.firstboot=off")})
	m.Leader()
	m.WaitNotify("READY=1", bootTimeout)

	if _, err := os.Stat(filepath.Join(hostDir, "stale")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover of an earlier run reached this boot: stat %s/stale: %v", hostDir, err)
	}
	if got, err := m.Enter(10*time.Second, "stat", "-c", "%U %a", "/run/host/unix-export"); err != nil || got != "root 755" {
		t.Errorf("/run/host/unix-export inside: %q (%v), want owned by root, mode 755", got, err)
	}
	if got, err := m.Enter(10*time.Second, "findmnt", "-n", "-o", "OPTIONS", "/run/host"); err != nil || !strings.HasPrefix(got, "ro,") {
		t.Errorf("/run/host inside: options %q (%v), want read-only", got, err)
	}

	// systemd 252 has no ssh generator: a transient service inside binds
	// the socket and answers each connection.
	const sock = "hello"
	if _, err := m.Enter(30*time.Second, "systemd-run", "--unit=e2e-unix-export", "--quiet",
		"systemd-socket-activate", "--listen=/run/host/unix-export/"+sock, "--accept", "--inetd",
		"/bin/sh", "-c", "echo hello-from-$(hostname)"); err != nil {
		t.Fatal(err)
	}
	hostSock := filepath.Join(hostDir, sock)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := os.Lstat(hostSock); err == nil && st.Mode()&os.ModeSocket != 0 {
			break
		}
		if time.Now().After(deadline) {
			ls, _ := m.Enter(10*time.Second, "ls", "-la", "/run/host/unix-export")
			t.Fatalf("no socket at %s on the host; inside:\n%s", hostSock, ls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn, err := net.DialTimeout("unix", hostSock, 10*time.Second)
	if err != nil {
		t.Fatalf("connect to %s from the host: %v", hostSock, err)
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	reply, err := io.ReadAll(conn)
	conn.Close()
	if want := "hello-from-" + name + "\n"; err != nil || string(reply) != want {
		t.Errorf("read from %s: %q (%v), want %q", hostSock, reply, err, want)
	}

	if err := os.Mkdir(filepath.Join(hostDir, "from-host"), 0o755); !errors.Is(err, syscall.EROFS) {
		t.Errorf("mkdir in %s on the host: %v, want EROFS (read-only on the host)", hostDir, err)
	}
	if _, err := m.Enter(10*time.Second, "touch", "/run/host/unix-export/from-inside"); err != nil {
		t.Errorf("the container cannot write to /run/host/unix-export: %v", err)
	}

	m.Signal(syscall.SIGTERM)
	if status := m.Wait(shutdownTimeout); status != 0 {
		t.Errorf("after SIGTERM sockspawn exited with %d, want 0", status)
	}
	if _, err := os.Lstat(hostDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is left after the stop (lstat: %v)", hostDir, err)
	}
}

// TestUnixExportFailedStart: a container whose payload cannot be started
// leaves no unix-export directory behind either.
func TestUnixExportFailedStart(t *testing.T) {
	needRoot(t)
	t.Parallel()
	for _, args := range [][]string{
		{"--console=pipe", "--", "/nonexistent/init"},
		{"--console=pipe", "--", "/bin/sh", "-c", "test -d /run/host/unix-export && exit 7"},
	} {
		m := startMachine(t, runSpec{Args: append(volatileHost(), args...)})
		status := m.Wait(60 * time.Second)
		if args[2] == "/bin/sh" && status != 7 {
			t.Errorf("sockspawn %s: exit status %d, want 7 (/run/host/unix-export there)\nstderr:\n%s", strings.Join(args, " "), status, m.Stderr.String())
		}
		if _, err := os.Lstat(filepath.Join(runtimeUnixExport, m.Name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("sockspawn %s: %s/%s is left (lstat: %v)", strings.Join(args, " "), runtimeUnixExport, m.Name, err)
		}
	}
}
