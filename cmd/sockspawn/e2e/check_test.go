//go:build linux

package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs sockspawn with args and returns its exit status, standard
// output and standard error.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(sockspawnBin, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestUnknownMachine: cat and check of a machine with neither a
// configuration file nor an image fail with one line naming it.
func TestUnknownMachine(t *testing.T) {
	needBinary(t)
	name := newMachineName(t)
	for _, cmd := range []string{"cat", "check"} {
		status, stdout, stderr := runCLI(t, cmd, name)
		if status != 1 {
			t.Errorf("sockspawn %s %s: exit status %d, want 1", cmd, name, status)
		}
		if l := lines(stderr); len(l) != 1 || !strings.Contains(stderr, "machine "+name+" not found") {
			t.Errorf("sockspawn %s %s: want one line naming the machine on stderr, got %d:\n%s", cmd, name, len(l), stderr)
		}
		if stdout != "" {
			t.Errorf("sockspawn %s %s: unexpected output on stdout: %q", cmd, name, stdout)
		}
	}
}

// TestNoArguments: sockspawn alone prints a short usage on stderr and
// exits 2.
func TestNoArguments(t *testing.T) {
	needBinary(t)
	status, stdout, stderr := runCLI(t)
	if status != 2 {
		t.Errorf("sockspawn: exit status %d, want 2", status)
	}
	if l := lines(stderr); len(l) > 10 || !strings.HasPrefix(stderr, "Usage: ") {
		t.Errorf("sockspawn: want a short usage on stderr, got %d lines:\n%s", len(l), stderr)
	}
	if stdout != "" {
		t.Errorf("sockspawn: unexpected output on stdout: %q", stdout)
	}
}

// TestCheckSaysWhatItChecked: check of a good machine lists what it
// checked; of a bad one, it names the key and line of the culprit.
func TestCheckSaysWhatItChecked(t *testing.T) {
	needRoot(t)
	const dir = "/etc/sockspawn"
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		mustOK(t, os.Mkdir(dir, 0o755))
		t.Cleanup(func() { os.Remove(dir) }) // only if empty: others' files stay
	}
	name := newMachineName(t)
	conf := filepath.Join(dir, name+".conf")
	t.Cleanup(func() { os.Remove(conf) })

	mustOK(t, os.WriteFile(conf, []byte("[Container]\nDirectory=/\nVolatile=state\nBoot=yes\nBindReadOnly=/etc\n"), 0o644))
	status, stdout, stderr := runCLI(t, "check", name)
	if status != 0 {
		t.Fatalf("check %s: exit status %d; stderr: %s", name, status, stderr)
	}
	for _, want := range []string{"machine " + name + " can boot", conf, "image          / (a directory on the host), volatile state", "init           /", "bind source    /etc (on the host)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check %s does not say %q:\n%s", name, want, stdout)
		}
	}

	mustOK(t, os.WriteFile(conf, []byte("[Container]\nDirectory=/\nVolatile=yes\nBoot=yes\nBind=/nonexistent-e2e-src:/mnt\n"), 0o644))
	status, stdout, stderr = runCLI(t, "check", name)
	if status != 1 || len(lines(stderr)) != 1 || !strings.Contains(stderr, "Bind= ("+conf+":5): source /nonexistent-e2e-src on the host") {
		t.Errorf("check %s with a missing bind source: exit status %d, stderr:\n%s", name, status, stderr)
	}
	if stdout != "" {
		t.Errorf("check %s failed but wrote to stdout: %q", name, stdout)
	}
	checkLeftovers(t, name, 0, "")
}
