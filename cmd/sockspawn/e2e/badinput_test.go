//go:build linux

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBadInput runs sockspawn with one bad input at a time: each must end
// with exit status 1 and a single line on standard error that names the
// culprit (the option, and for a path whether it is on the host or in the
// image), come before anything is created, and leave nothing behind. The cases run one after the other,
// before the parallel tests, so that the host's mount table can be
// compared before and after.
func TestBadInput(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("not an image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noInit := filepath.Join(dir, "image-without-init")
	for _, d := range []string{"usr/bin", "etc"} {
		if err := os.MkdirAll(filepath.Join(noInit, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	missingDir := filepath.Join(dir, "no-such-image")
	long := strings.Repeat("a", 65)

	cases := []struct {
		name    string
		machine string   // the -M value, or "" for none
		args    []string // after -M
		culprit []string // each must be in the error line
	}{
		{name: "missing directory", args: []string{"-D", missingDir, "--", "/bin/true"}, culprit: []string{"-D", missingDir, "on the host"}},
		{name: "directory is a file", args: []string{"-D", file, "--", "/bin/true"}, culprit: []string{"-D", file, "on the host"}},
		{name: "boot image without init", args: []string{"-D", noInit, "-b"}, culprit: []string{noInit, "init"}},
		{name: "command not in the image", args: []string{"-D", noInit, "--", "/bin/true"}, culprit: []string{"/bin/true", "in the image " + noInit}},
		{name: "host root read-write", args: []string{"-D", "/", "--", "/bin/true"}, culprit: []string{"-D /", "--volatile=yes", "--volatile=state"}},
		{name: "host root volatile=no", args: []string{"-D", "/", "--volatile=no", "-b"}, culprit: []string{"-D /", "--volatile=state"}},
		{name: "machine name with slash", machine: "a/b", args: []string{"-D", "/", "--volatile=yes", "--", "/bin/true"}, culprit: []string{"a/b"}},
		{name: "machine name of 65 characters", machine: long, args: []string{"-D", "/", "--volatile=yes", "--", "/bin/true"}, culprit: []string{long}},
		{name: "machine name dot dot", machine: "..", args: []string{"-D", "/", "--volatile=yes", "--", "/bin/true"}, culprit: []string{"machine", ".."}},
		{name: "relative bind source", args: []string{"-D", "/", "--volatile=yes", "--bind=relative/e2e:/mnt", "--", "/bin/true"}, culprit: []string{"--bind", "relative/e2e"}},
		{name: "missing bind source", args: []string{"-D", "/", "--volatile=yes", "--bind=/nonexistent-e2e-src:/mnt", "--", "/bin/true"}, culprit: []string{"--bind: source /nonexistent-e2e-src on the host"}},
		{name: "missing bind-ro source", args: []string{"-D", "/", "--volatile=yes", "--bind-ro=/nonexistent-e2e-src", "--", "/bin/true"}, culprit: []string{"--bind-ro: source /nonexistent-e2e-src on the host"}},
		{name: "bind target in /run/host", args: []string{"-D", "/", "--volatile=yes", "--bind=/etc:/run/host/e2e", "--", "/bin/true"}, culprit: []string{"--bind", "/run/host/e2e", "in the container"}},
		{name: "missing command", args: []string{"-D", "/", "--volatile=yes", "--", "/nonexistent-e2e-command"}, culprit: []string{"/nonexistent-e2e-command", "--volatile=yes"}},
		{name: "command not on $PATH", args: []string{"-D", "/", "--volatile=state", "--", "nonexistent-e2e-command"}, culprit: []string{"nonexistent-e2e-command", "$PATH", "in the image /"}},
		{name: "missing credential file", args: []string{"-D", "/", "--volatile=yes", "--load-credential=e2e:/nonexistent-e2e-cred", "--", "/bin/true"}, culprit: []string{"--load-credential", "/nonexistent-e2e-cred"}},
		{name: "credential without colon", args: []string{"-D", "/", "--volatile=yes", "--set-credential=e2e-nocolon", "--", "/bin/true"}, culprit: []string{"--set-credential", "e2e-nocolon"}},
		{name: "bad volatile mode", args: []string{"-D", "/", "--volatile=overlay-e2e", "--", "/bin/true"}, culprit: []string{"--volatile", "overlay-e2e"}},
		{name: "bad listen address", args: []string{"-D", "/", "--volatile=yes", "--listen=e2e:no:port", "--", "/bin/true"}, culprit: []string{"--listen", "e2e:no:port"}},
		{name: "bad private-users", args: []string{"-D", "/", "--volatile=yes", "--private-users=e2e", "--", "/bin/true"}, culprit: []string{"--private-users", "e2e"}},
		{name: "bad capability", args: []string{"-D", "/", "--volatile=yes", "--capability=CAP_E2E", "--", "/bin/true"}, culprit: []string{"--capability", "CAP_E2E"}},
		{name: "bad link-journal", args: []string{"-D", "/", "--volatile=yes", "--link-journal=e2e", "--", "/bin/true"}, culprit: []string{"--link-journal", "e2e"}},
		{name: "unknown flag", args: []string{"-D", "/", "--volatile=yes", "--frobnicate-e2e", "--", "/bin/true"}, culprit: []string{"--frobnicate-e2e"}},
		{name: "root image without machine name", machine: "-", args: []string{"-D", "/", "--volatile=yes", "--", "/bin/true"}, culprit: []string{"-M"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := c.machine
			args := []string{"run"}
			switch name {
			case "":
				name = newMachineName(t)
				args = append(args, "-M", name)
			case "-":
				name = ""
			default:
				args = append(args, "-M", name)
			}
			args = append(args, c.args...)
			before := mountinfo(t)

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, sockspawnBin, args...)
			// With debug logging sockspawn traces each step of a start:
			// a refusal must come before the first that creates anything.
			cmd.Env = append(cleanEnv(), "SYSTEMD_LOG_LEVEL=debug")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			_ = cmd.Run()
			status := cmd.ProcessState.ExitCode()

			if status != 1 {
				t.Errorf("sockspawn %s: exit status %d, want 1", strings.Join(args, " "), status)
			}
			var errLines, traced []string
			for _, l := range lines(stderr.String()) {
				if traceLine.MatchString(l) {
					traced = append(traced, l)
				} else {
					errLines = append(errLines, l)
				}
			}
			for _, l := range traced {
				for _, step := range createSteps {
					if strings.Contains(l, step) {
						t.Errorf("refused only after something was created: %s", l)
					}
				}
			}
			if len(errLines) != 1 {
				t.Errorf("sockspawn %s: want one line on stderr, got %d:\n%s", strings.Join(args, " "), len(errLines), stderr.String())
			}
			for _, s := range c.culprit {
				if !strings.Contains(strings.Join(errLines, "\n"), s) {
					t.Errorf("the error does not name %q: %s", s, strings.Join(errLines, "\n"))
				}
			}
			if stdout.Len() > 0 {
				t.Errorf("unexpected output on stdout: %q", stdout.String())
			}
			if !t.Failed() {
				t.Logf("stderr: %s", strings.Join(errLines, "\n"))
			}

			safeName := name
			if strings.Contains(name, "/") || name == ".." {
				safeName = "" // never a path below the runtime directory
				if _, err := os.Lstat(filepath.Join(runtimeMachines, strings.Split(name, "/")[0])); err == nil && name != ".." {
					t.Errorf("runtime directory created for the invalid name %q", name)
				}
			}
			checkLeftovers(t, safeName, 0, "")
			if after := mountinfo(t); len(after) != len(before) {
				t.Errorf("the host's mount table changed from %d to %d lines", len(before), len(after))
			}
		})
	}
}

// traceLine is a line of sockspawn's debug trace ("sockspawn: +1.2 ms STEP").
var traceLine = regexp.MustCompile(`^sockspawn: \+[0-9.]+ ms `)

// createSteps are the first trace steps of a start that create something
// on the host: the runtime directory, then the cgroup, namespaces and
// mounts of the stage.
var createSteps = []string{"runtime directory locked", "stage started"}
