//go:build linux

package e2e

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestInteractiveConsole runs sockspawn on a terminal (script(1) gives it
// one): the console defaults to interactive, so what is typed reaches the
// container's shell on its /dev/console pty and its output comes back,
// and the shell's exit status is sockspawn's.
func TestInteractiveConsole(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("script"); err != nil {
		missing(t, "script (bsdutils)")
	}
	t.Parallel()
	name := newMachineName(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qefc", sockspawnBin+" run -q -M "+name+" -D / --volatile=yes -- /bin/sh", "/dev/null")
	cmd.Env = cleanEnv()
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
