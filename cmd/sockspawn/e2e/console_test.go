//go:build linux

package e2e

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// onTerminal is `sockspawn run` of a fresh machine on this OS with
// payload, on a terminal that script(1) gives it, killed after 30 s; the
// test runs in parallel.
func onTerminal(t *testing.T, payload string) (cmd *exec.Cmd, name string) {
	t.Helper()
	needRoot(t)
	if _, err := exec.LookPath("script"); err != nil {
		missing(t, "script (bsdutils)")
	}
	t.Parallel()
	name = newMachineName(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd = exec.CommandContext(ctx, "script", "-qefc", sockspawnBin+" run -q -M "+name+" -D / --volatile=yes -- "+payload, "/dev/null")
	cmd.Env = cleanEnv()
	return cmd, name
}

// TestConsoleEscape: on an interactive console, ^] pressed three times
// within a second kills the container at once, as on systemd-nspawn's;
// two, and a key between, do not.
func TestConsoleEscape(t *testing.T) {
	cmd, name := onTerminal(t, "/bin/sh -c 'echo up; exec sleep 60'")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	var seen strings.Builder
	for !strings.Contains(seen.String(), "up") {
		n, err := out.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("no \"up\" from the container: %v; output %q", err, seen.String())
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Not yet: two, then another key.
	if _, err := in.Write([]byte{0x1d, 0x1d, 'x'}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		t.Fatalf("sockspawn ended on ^]^]x: %v", err)
	case <-time.After(1500 * time.Millisecond):
	}
	start := time.Now()
	if _, err := in.Write([]byte{0x1d, 0x1d, 0x1d}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGKILL) {
			t.Errorf("sockspawn after ^]^]^]: %v, want status 137 (the init killed)", err)
		}
		t.Logf("ended %v after the escape", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("sockspawn still runs 10 s after ^]^]^]")
	}
	checkLeftovers(t, name, 0, "")
}

// TestInteractiveConsole runs sockspawn on a terminal (script(1) gives it
// one): the console defaults to interactive, so what is typed reaches the
// container's shell on its /dev/console pty and its output comes back,
// and the shell's exit status is sockspawn's.
func TestInteractiveConsole(t *testing.T) {
	cmd, name := onTerminal(t, "/bin/sh")
	cmd.Stdin = strings.NewReader("echo answer=$((6*7)); tty; exit 4\n")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Errorf("exit: %v, want status 4 (the shell's)", err)
	}
	if !strings.Contains(string(out), "answer=42") {
		t.Errorf("the container's shell did not answer on the console:\n%s", out)
	}
	if !strings.Contains(string(out), "/dev/pts/0") {
		t.Errorf("the shell's terminal is not the console pty /dev/pts/0:\n%s", out)
	}
	checkLeftovers(t, name, 0, "")
}

// TestConsoleSlowReader boots systemd logging at debug level to its
// console, which is relayed to sockspawn's stdout, a pipe that nobody
// reads until READY=1. The guest's writes to /dev/console must not wait
// for that reader: a relay that waited would stall PID 1 once the pipe
// and the pty were full, long before READY=1. Once the reader reads,
// the output holds more than those buffers before "Startup finished",
// and the shutdown's last lines.
func TestConsoleSlowReader(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if _, err := unix.FcntlInt(pw.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatalf("F_SETPIPE_SZ: %v", err)
	}
	m := startMachine(t, runSpec{Notify: true, Stdout: pw, Args: []string{"-D", "/", "--volatile=yes", "-b", "--console=read-only",
		"--", "systemd.firstboot=off", "systemd.log_target=console", "systemd.log_level=debug"}})
	pw.Close()
	m.WaitNotify("READY=1", bootTimeout)

	var out strings.Builder
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(&out, pr)
		read <- err
	}()
	m.Signal(syscall.SIGTERM)
	if status := m.Wait(shutdownTimeout); status != 0 {
		t.Errorf("after SIGTERM sockspawn exited with %d, want 0", status)
	}
	if err := <-read; err != nil {
		t.Fatalf("read sockspawn's stdout: %v", err)
	}
	// What the boot wrote before READY=1 is more than the pipe and the
	// pty could have held for a relay that waited on the reader.
	text := out.String()
	const held = 4096 + 64<<10 + 4096 // the pipe (shrunk above) and a pty's buffers
	if i := strings.Index(text, "Startup finished"); i < 2*held {
		t.Errorf("\"Startup finished\" at byte %d of the console output, want beyond %d: the boot did not write enough to show that the guest never waits for the reader", i, 2*held)
	}
	if !strings.Contains(text, "systemd-shutdown") {
		t.Errorf("the console output lacks the shutdown's last lines; its end:\n%s", tail(text, 10))
	}
}
