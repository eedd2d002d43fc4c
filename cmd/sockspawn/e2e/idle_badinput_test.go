//go:build linux

package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestIdleBadInput: an idle action that cannot be carried out is refused
// with exit status 1 and one line naming the culprit, before anything is
// made. (Freezing on a host without cgroup2 is refused the same way; see
// TestCheckIdle, which fakes such a host.)
func TestIdleBadInput(t *testing.T) {
	needRoot(t)
	port := sockPort(t)
	for _, c := range []struct {
		name    string
		args    []string
		culprit []string
	}{
		{"no sockets to watch", []string{"--idle-action=freeze"}, []string{"idle action freeze", "no sockets"}},
		{"no sockets to watch, poweroff", []string{"--idle-action=poweroff", "--idle-action-sec=5min"}, []string{"idle action poweroff", "no sockets"}},
		{"zero period", []string{"--listen=" + loopback(port), "--idle-action=freeze", "--idle-action-sec=0"}, []string{"--idle-action-sec", `"0"`, "longer than zero"}},
		{"period that does not parse", []string{"--listen=" + loopback(port), "--idle-action=freeze", "--idle-action-sec=soon"}, []string{"--idle-action-sec", "soon"}},
		{"unknown unit", []string{"--listen=" + loopback(port), "--idle-action-sec=5 fortnights"}, []string{"--idle-action-sec", "fortnights"}},
		{"unknown action", []string{"--listen=" + loopback(port), "--idle-action=suspend"}, []string{"--idle-action", "suspend", "freeze, poweroff or ignore"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := newMachineName(t)
			args := append([]string{"run", "-M", name}, c.args...)
			args = append(args, "-D", "/", "--volatile=yes", "-b")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, sockspawnBin, args...)
			cmd.Env = cleanEnv()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			_ = cmd.Run()
			if status := cmd.ProcessState.ExitCode(); status != 1 {
				t.Errorf("sockspawn %s: exit status %d, want 1", strings.Join(args, " "), status)
			}
			if l := lines(stderr.String()); len(l) != 1 {
				t.Errorf("want one line on stderr, got %d:\n%s", len(l), stderr.String())
			}
			for _, s := range c.culprit {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("the error does not name %q: %s", s, strings.TrimSpace(stderr.String()))
				}
			}
			t.Logf("stderr: %s", strings.TrimSpace(stderr.String()))
			checkLeftovers(t, name, 0, "")
			// Nothing listens any more: the port is free again.
			if sockListenerInode(t, port) != "" {
				t.Errorf("something still listens on %s", loopback(port))
			}
		})
	}
}
