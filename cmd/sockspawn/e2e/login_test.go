//go:build linux

package e2e

import (
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// runtimeControl holds the control sockets of running machines.
const runtimeControl = "/run/sockspawn/control"

// login is one `sockspawn login` with its input in a pipe.
type login struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    lockedBuffer
	errOut lockedBuffer
	done   chan struct{}
}

func startLogin(t *testing.T, args ...string) *login {
	t.Helper()
	return startLoginCmd(t, exec.Command(sockspawnBin, append([]string{"login"}, args...)...))
}

// startLoginCmd starts cmd, a `sockspawn login` (perhaps run through
// nsenter).
func startLoginCmd(t *testing.T, cmd *exec.Cmd) *login {
	t.Helper()
	l := &login{cmd: cmd, done: make(chan struct{})}
	l.cmd.Stdout, l.cmd.Stderr = &l.out, &l.errOut
	var err error
	if l.in, err = l.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = l.cmd.Wait(); close(l.done) }()
	t.Cleanup(func() {
		select {
		case <-l.done:
		default:
			_ = l.cmd.Process.Kill()
			<-l.done
		}
	})
	return l
}

// waitPrompt waits until the login's output contains want, pressing
// Enter now and then (a getty reprints its prompt on an empty name).
func (l *login) waitPrompt(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	l.wait(t, want, timeout, true)
}

// waitOutput waits until the login's output contains want.
func (l *login) waitOutput(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	l.wait(t, want, timeout, false)
}

func (l *login) wait(t *testing.T, want string, timeout time.Duration, nudge bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for next := time.Now(); !strings.Contains(l.out.String(), want); {
		select {
		case <-l.done:
			t.Fatalf("sockspawn login exited before %q came; output:\n%s\nstderr:\n%s", want, l.out.String(), l.errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q from the tty within %v; output:\n%s\nstderr:\n%s", want, timeout, l.out.String(), l.errOut.String())
		}
		if nudge && time.Now().After(next) {
			_, _ = l.in.Write([]byte("\r"))
			next = time.Now().Add(2 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// detach presses Ctrl-] three times and wants sockspawn login to end with
// status 0.
func (l *login) detach(t *testing.T) {
	t.Helper()
	if _, err := l.in.Write([]byte{0x1d, 0x1d, 0x1d}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("sockspawn login did not detach on ^]^]^]; stderr:\n%s", l.errOut.String())
	}
	if st := l.cmd.ProcessState.ExitCode(); st != 0 || !strings.Contains(l.errOut.String(), "Detached.") {
		t.Errorf("sockspawn login after ^]^]^]: exit status %d, stderr %q; want 0 and Detached.", st, l.errOut.String())
	}
}

// TestLogin: with --ttys=2 the booted systemd gets container_ttys=pts/1
// pts/2, runs a getty on each, and `sockspawn login` reaches a login
// prompt on them and detaches without stopping the container.
func TestLogin(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	m, _ := bootMachine(t, "--console=passive", "--ttys=2")
	if got := pid1Env(t, m.Leader())["container_ttys"]; got != "pts/1 pts/2" {
		t.Errorf("container_ttys of the container's init: %q, want \"pts/1 pts/2\"", got)
	}
	checkSystemRunning(t, m)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := m.Enter(10*time.Second, "ps", "-C", "agetty", "-o", "tty=")
		// pts/0 is the console, with console-getty.service on it.
		ttys := strings.Fields(out)
		if slices.Contains(ttys, "pts/1") && slices.Contains(ttys, "pts/2") {
			break
		}
		if time.Now().After(deadline) {
			units, _ := m.Enter(10*time.Second, "systemctl", "list-units", "--all", "--no-legend", "container-getty@*")
			t.Fatalf("gettys run on %q, want pts/1 and pts/2; units:\n%s", ttys, units)
		}
		time.Sleep(100 * time.Millisecond)
	}

	l := startLogin(t, m.Name)
	l.waitPrompt(t, m.Name+" login:", 30*time.Second)
	if !strings.Contains(l.errOut.String(), "on pts/1") {
		t.Errorf("the first login did not go to pts/1: %q", l.errOut.String())
	}
	// The second tty while the first is held.
	l2 := startLogin(t, m.Name, "2")
	l2.waitPrompt(t, m.Name+" login:", 30*time.Second)
	if out, err := exec.Command(sockspawnBin, "login", m.Name, "pts/2").CombinedOutput(); err == nil || !strings.Contains(string(out), "in use") {
		t.Errorf("a second login on pts/2 while one holds it: %v, %q; want an in-use error", err, out)
	}
	l.detach(t)
	l2.detach(t)
	if m.hasExited() {
		t.Fatalf("the container stopped when a login detached (status %d)", m.exitStatus())
	}
	if st, _ := m.Enter(10*time.Second, "systemctl", "is-system-running"); st != "running" {
		t.Errorf("after the logins detached, systemd inside is %q", st)
	}
	// Detached, the tty is free again.
	l3 := startLogin(t, m.Name, "pts/1")
	l3.waitPrompt(t, "login:", 30*time.Second)
	l3.detach(t)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{m.Name, "7"}, "no tty pts/7"},
		{[]string{m.Name, "x"}, "invalid tty"},
		{[]string{"e2e-no-such-machine"}, `no running machine "e2e-no-such-machine"`},
		{[]string{"bad/name"}, "bad/name"},
	} {
		out, err := exec.Command(sockspawnBin, append([]string{"login"}, c.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("sockspawn login %s: %v, %q; want an error with %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
}

// TestTTYsBadInput: --ttys above the bound is refused before anything is
// made.
func TestTTYsBadInput(t *testing.T) {
	needRoot(t)
	t.Parallel()
	for _, v := range []string{"17", "-1", "many"} {
		m := startMachine(t, runSpec{Args: append(volatileHost(), "--ttys="+v, "--console=pipe", "--", "/bin/true")})
		if st := m.Wait(30 * time.Second); st != 1 || !strings.Contains(m.Stderr.String(), `invalid --ttys "`+v+`"`) {
			t.Errorf("--ttys=%s: exit status %d, stderr %q; want 1 and an error naming --ttys", v, st, m.Stderr.String())
		}
	}
}
