//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// refusedRun runs `sockspawn run -M NAME ARGS...` and checks that it is
// refused as TestBadInput wants: exit status 1, one error line naming
// each of culprit, nothing created (by the debug trace) and nothing left.
// Lines before the error (warnings) are returned.
func refusedRun(t *testing.T, args []string, culprit ...string) (warnings []string) {
	t.Helper()
	name := newMachineName(t)
	args = append([]string{"run", "-M", name}, args...)
	before := mountinfo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sockspawnBin, args...)
	cmd.Env = append(cleanEnv(), "SYSTEMD_LOG_LEVEL=debug")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	if status := cmd.ProcessState.ExitCode(); status != 1 {
		t.Errorf("sockspawn %s: exit status %d, want 1", strings.Join(args, " "), status)
	}
	var out []string
	for _, l := range lines(stderr.String()) {
		if !traceLine.MatchString(l) {
			out = append(out, l)
			continue
		}
		for _, step := range createSteps {
			if strings.Contains(l, step) {
				t.Errorf("refused only after something was created: %s", l)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("sockspawn %s: no error on stderr", strings.Join(args, " "))
	}
	errLine := out[len(out)-1]
	for _, s := range culprit {
		if !strings.Contains(errLine, s) {
			t.Errorf("the error does not name %q: %s", s, errLine)
		}
	}
	if stdout.Len() > 0 {
		t.Errorf("unexpected output on stdout: %q", stdout.String())
	}
	t.Logf("stderr: %s", strings.Join(out, "\n"))
	checkLeftovers(t, name, 0, "")
	if after := mountinfo(t); len(after) != len(before) {
		t.Errorf("the host's mount table changed from %d to %d lines", len(before), len(after))
	}
	return out[:len(out)-1]
}

// TestUserRangeBadInput: a private user range that collides with a
// running machine's, lies outside what the host allows, holds a host
// user, or does not cover the owners of the image is refused before
// anything is created, with the culprit named.
func TestUserRangeBadInput(t *testing.T) {
	needBinary(t)
	needRoot(t)

	t.Run("outside-uid-space", func(t *testing.T) {
		refusedRun(t, []string{"-D", "/", "--volatile=yes", "--private-users=4294967294:2", "--", "/bin/true"},
			"--private-users", "4294967294:2", "4294967295")
	})

	t.Run("host-user", func(t *testing.T) {
		user, uid := firstHostUser(t)
		refusedRun(t, []string{"-D", "/", "--volatile=yes", "--private-users=" + uid + ":1", "--", "/bin/true"},
			"--private-users", uid+":1", "user "+user, "UID "+uid)
	})

	t.Run("image-owned-outside", func(t *testing.T) {
		img := t.TempDir()
		for _, d := range []string{"etc", "usr/bin"} {
			if err := os.MkdirAll(filepath.Join(img, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		// An image chowned for another range: its root shows as nobody's.
		if err := os.Chown(img, 1879048192, 1879048192); err != nil {
			t.Fatal(err)
		}
		refusedRun(t, []string{"-D", img, "-U", "--", "/bin/true"}, "--private-users", "/ of image "+img, "1879048192:1879048192")

		// A stray path only warns; this image is then refused for its
		// missing command.
		if err := os.Chown(img, 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(img, "etc"), 0, 70000); err != nil {
			t.Fatal(err)
		}
		warnings := refusedRun(t, []string{"-D", img, "-U", "--", "/bin/true"}, "/bin/true")
		if len(warnings) != 1 || !strings.Contains(warnings[0], "/etc of image "+img) || !strings.Contains(warnings[0], "0:70000") {
			t.Errorf("want one warning naming /etc of the image and its owner, got %q", warnings)
		}
	})

	t.Run("overlaps-running-machine", func(t *testing.T) {
		// Above the ranges sockspawn picks from, so no parallel test's
		// machine holds it.
		const held = "2000000000"
		m := startMachine(t, runSpec{Notify: true, Args: []string{"-D", "/", "--volatile=yes", "--private-users=" + held + ":65536", "--", "/bin/sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"}})
		// Once its init runs, the host's side of it is set up, and the
		// mount table stays as it is while the second is refused.
		m.Leader()
		reservation := "/run/sockspawn/userns/" + held
		if _, err := os.Stat(reservation); err != nil {
			t.Fatalf("the first machine holds no reservation: %v", err)
		}
		// Its last ID is enough.
		refusedRun(t, []string{"-D", "/", "--volatile=yes", "--private-users=2000065535:10", "--", "/bin/true"},
			"--private-users", "2000065535:10", "overlaps "+held+":65536", "running machine "+m.Name)
		// Right after it is free.
		next := startMachine(t, runSpec{Args: []string{"-D", "/", "--volatile=yes", "--private-users=2000065536:65536", "--", "/bin/true"}})
		if status := next.Wait(60 * time.Second); status != 0 {
			t.Errorf("a machine with the range right after a running one's: exit status %d, want 0; stderr: %s", status, next.Stderr.String())
		}
		m.Signal(syscall.SIGTERM)
		if status := m.Wait(60 * time.Second); status != 0 {
			t.Errorf("the first machine: exit status %d after SIGTERM", status)
		}
		if _, err := os.Stat(reservation); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("reservation %s left after its machine ended (stat: %v)", reservation, err)
		}
	})
}

// firstHostUser returns the name and UID of the first user of the host's
// /etc/passwd other than root.
func firstHostUser(t *testing.T) (name, uid string) {
	t.Helper()
	f, err := os.Open("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) > 2 && fields[2] != "0" && !strings.HasPrefix(fields[0], "#") {
			return fields[0], fields[2]
		}
	}
	t.Skip("no user other than root in /etc/passwd")
	return "", ""
}
