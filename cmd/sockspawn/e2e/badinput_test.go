//go:build linux

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBadInput runs sockspawn with one bad input at a time: each must end
// with exit status 1 and a single line on standard error that names the
// culprit, and leave nothing behind. The cases run one after the other,
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
		status  []int    // accepted exit statuses; default 1
		root    bool     // gets as far as starting the container
	}{
		{name: "missing directory", args: []string{"-D", missingDir, "--", "/bin/true"}, culprit: []string{missingDir}},
		{name: "directory is a file", args: []string{"-D", file, "--", "/bin/true"}, culprit: []string{file}},
		{name: "boot image without init", args: []string{"-D", noInit, "-b"}, culprit: []string{noInit, "init"}},
		{name: "machine name with slash", machine: "a/b", args: []string{"-D", "/", "--volatile=yes", "--", "/bin/true"}, culprit: []string{"a/b"}},
		{name: "machine name of 65 characters", machine: long, args: []string{"-D", "/", "--volatile=yes", "--", "/bin/true"}, culprit: []string{long}},
		{name: "machine name dot dot", machine: "..", args: []string{"-D", "/", "--volatile=yes", "--", "/bin/true"}, culprit: []string{"machine", ".."}},
		{name: "relative bind source", args: []string{"-D", "/", "--volatile=yes", "--bind=relative/e2e:/mnt", "--", "/bin/true"}, culprit: []string{"--bind", "relative/e2e"}},
		{name: "credential without colon", args: []string{"-D", "/", "--volatile=yes", "--set-credential=e2e-nocolon", "--", "/bin/true"}, culprit: []string{"--set-credential", "e2e-nocolon"}},
		{name: "unknown flag", args: []string{"-D", "/", "--volatile=yes", "--frobnicate-e2e", "--", "/bin/true"}, culprit: []string{"--frobnicate-e2e"}},
		{name: "root image without machine name", machine: "-", args: []string{"-D", "/", "--volatile=yes", "--", "/bin/true"}, culprit: []string{"-M"}},
		// These fail only inside the init stage, after the cgroup was
		// made: all of it must be undone. -q silences the informational
		// "not in a delegated cgroup" line, which is not an error.
		{name: "missing bind source", args: []string{"-q", "-D", "/", "--volatile=yes", "--bind=/nonexistent-e2e-src:/mnt", "--", "/bin/true"}, culprit: []string{"/nonexistent-e2e-src"}, root: true},
		{name: "missing command", args: []string{"-q", "-D", "/", "--volatile=yes", "--", "/nonexistent-e2e-command"}, culprit: []string{"/nonexistent-e2e-command"}, status: []int{1, 203}, root: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root && os.Geteuid() != 0 {
				missing(t, "root")
			}
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
			cmd.Env = cleanEnv()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			_ = cmd.Run()
			status := cmd.ProcessState.ExitCode()

			want := c.status
			if want == nil {
				want = []int{1}
			}
			if !slices.Contains(want, status) {
				t.Errorf("sockspawn %s: exit status %d, want %v", strings.Join(args, " "), status, want)
			}
			errLines := lines(stderr.String())
			if len(errLines) != 1 {
				t.Errorf("sockspawn %s: want one line on stderr, got %d:\n%s", strings.Join(args, " "), len(errLines), stderr.String())
			}
			for _, s := range c.culprit {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("the error does not name %q: %s", s, strings.TrimSpace(stderr.String()))
				}
			}
			if stdout.Len() > 0 {
				t.Errorf("unexpected output on stdout: %q", stdout.String())
			}
			if !t.Failed() {
				t.Logf("stderr: %s", strings.TrimSpace(stderr.String()))
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
