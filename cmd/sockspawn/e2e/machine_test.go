//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runtimeMachines is where sockspawn keeps a running machine's state.
const runtimeMachines = "/run/sockspawn/machines"

// runtimeTunnels holds the mount tunnels of `machinectl bind`.
const runtimeTunnels = "/run/sockspawn/propagate"

// newMachineName returns a machine name no other test uses.
func newMachineName(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "e2e-" + hex.EncodeToString(b)
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutines of exec.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// machine is one running `sockspawn run`.
type machine struct {
	t      *testing.T
	Name   string
	Notify *notifyReceiver // nil unless asked for
	cmd    *exec.Cmd
	Stdout lockedBuffer
	Stderr lockedBuffer
	exited chan struct{}
	status int // exit status once exited; -1 if killed by a signal

	leader   int    // host pid of the container's init, once known
	leaderNS string // its pid namespace, for finding leftover processes
	nsPins   []*os.File
}

// runSpec says how to start a machine.
type runSpec struct {
	Args   []string // the arguments of `sockspawn run` after -M NAME
	Notify bool     // give sockspawn a $NOTIFY_SOCKET
	Name   string   // machine name; empty for a fresh one
	Env    []string // added to sockspawn's environment
	// Files are inherited as fds 3, 4, …; with ListenPID a shell sets
	// LISTEN_PID to sockspawn's pid (it execs sockspawn under its own),
	// as a service manager passing sockets would.
	Files     []*os.File
	ListenPID bool
	// Stdout, if set, is sockspawn's standard output instead of m.Stdout.
	Stdout *os.File
}

// cleanEnv is the test's environment without what a service manager
// would pass.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY", "WATCHDOG_USEC", "WATCHDOG_PID":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startMachine starts `sockspawn run -M NAME ARGS...`. Its cleanup stops
// that process (by pid) if it still runs and checks that nothing of the
// machine is left on the host.
func startMachine(t *testing.T, spec runSpec) *machine {
	t.Helper()
	m := &machine{t: t, Name: spec.Name, exited: make(chan struct{}), status: -1}
	if m.Name == "" {
		m.Name = newMachineName(t)
	}
	args := append([]string{"run", "-M", m.Name}, spec.Args...)
	m.cmd = exec.Command(sockspawnBin, args...)
	if spec.ListenPID {
		m.cmd = exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`, sockspawnBin}, args...)...)
	}
	m.cmd.ExtraFiles = spec.Files
	m.cmd.Env = append(cleanEnv(), spec.Env...)
	if spec.Notify {
		m.Notify = newNotifyReceiver(t)
		m.cmd.Env = append(m.cmd.Env, "NOTIFY_SOCKET="+m.Notify.Path)
	}
	m.cmd.Stdout, m.cmd.Stderr = &m.Stdout, &m.Stderr
	if spec.Stdout != nil {
		m.cmd.Stdout = spec.Stdout
	}
	t.Logf("sockspawn %s", strings.Join(args, " "))
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start sockspawn: %v", err)
	}
	go func() {
		_ = m.cmd.Wait()
		m.status = m.cmd.ProcessState.ExitCode()
		close(m.exited)
	}()
	t.Cleanup(m.cleanup)
	return m
}

// exitStatus is the exit status, or -1 while sockspawn runs.
func (m *machine) exitStatus() int {
	if m.hasExited() {
		return m.status
	}
	return -1
}

func (m *machine) hasExited() bool {
	select {
	case <-m.exited:
		return true
	default:
		return false
	}
}

// cleanup stops sockspawn if needed and checks for leftovers.
func (m *machine) cleanup() {
	t := m.t
	killed := false
	if !m.hasExited() {
		_ = syscall.Kill(m.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-m.exited:
		case <-time.After(30 * time.Second):
			t.Errorf("sockspawn (pid %d) ignored SIGTERM for 30s; killing it", m.cmd.Process.Pid)
			_ = syscall.Kill(m.cmd.Process.Pid, syscall.SIGKILL)
			<-m.exited
			killed = true
		}
	}
	if killed {
		// SIGKILL leaves sockspawn no chance to clean up: remove what it
		// left, so that later tests start clean, without blaming it.
		removeLeftovers(t, m.Name)
	} else {
		checkLeftovers(t, m.Name, m.leader, m.leaderNS)
	}
	for _, f := range m.nsPins {
		f.Close()
	}
	if t.Failed() {
		t.Logf("machine %s: exit status %d\nstdout:\n%s\nstderr:\n%s", m.Name, m.exitStatus(), tail(m.Stdout.String(), 60), tail(m.Stderr.String(), 30))
		if m.Notify != nil {
			t.Logf("notify messages:\n%s", m.Notify)
		}
	}
}

// Wait waits for sockspawn to exit and returns its exit status.
func (m *machine) Wait(timeout time.Duration) int {
	m.t.Helper()
	select {
	case <-m.exited:
		return m.status
	case <-time.After(timeout):
		m.t.Fatalf("sockspawn did not exit within %v", timeout)
	}
	return -1
}

// Signal sends sig to the sockspawn process.
func (m *machine) Signal(sig syscall.Signal) {
	m.t.Helper()
	if err := syscall.Kill(m.cmd.Process.Pid, sig); err != nil {
		m.t.Fatalf("signal sockspawn: %v", err)
	}
}

// WaitNotify waits for a notify line starting with prefix; see
// notifyReceiver.Wait. It fails the test if none comes.
func (m *machine) WaitNotify(prefix string, timeout time.Duration) (int, string) {
	m.t.Helper()
	i, l, err := m.Notify.Wait(prefix, timeout, m.exited)
	if err != nil {
		m.t.Fatalf("waiting for %s: %v (exit status %d)\nnotify messages:\n%s\nstderr:\n%s", prefix, err, m.exitStatus(), m.Notify, tail(m.Stderr.String(), 20))
	}
	return i, l
}

// Leader waits for X_SOCKSPAWN_LEADER_PID and returns the host pid of the
// container's init.
func (m *machine) Leader() int {
	m.t.Helper()
	if m.leader != 0 {
		return m.leader
	}
	_, l := m.WaitNotify("X_SOCKSPAWN_LEADER_PID=", 20*time.Second)
	pid, err := strconv.Atoi(strings.TrimPrefix(l, "X_SOCKSPAWN_LEADER_PID="))
	if err != nil || pid <= 1 {
		m.t.Fatalf("bad leader pid line %q", l)
	}
	m.leader = pid
	if ns, err := m.pinPidNS(pid); err == nil {
		m.leaderNS = ns
	} else {
		m.t.Errorf("leader pid %d: %v", pid, err)
	}
	return pid
}

// Enter runs a command inside the container with nsenter -a and returns
// its standard output, trimmed, and an error that includes its standard
// error.
func (m *machine) Enter(timeout time.Duration, args ...string) (string, error) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(m.Leader()), "-a"}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := strings.TrimSpace(stdout.String())
	if err != nil {
		return out, fmt.Errorf("nsenter %s: %w; stderr: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// lines splits output into lines, dropping the carriage returns a pty
// adds.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, strings.TrimRight(sc.Text(), "\r"))
	}
	return out
}
