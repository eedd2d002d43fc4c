//go:build linux

package e2e

import (
	"crypto/rand"
	"encoding/hex"
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

// hostJournal is /var/log/journal on the host; tests that need it make it
// when the host has none and remove it again.
const hostJournal = "/var/log/journal"

// journalID returns a fresh machine ID for a test, and removes whatever
// --link-journal leaves for it in the host's /var/log/journal at the end.
func journalID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	id := hex.EncodeToString(b)
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join(hostJournal, id)) })
	return id
}

// needHostJournal makes sure the host has /var/log/journal, as a host
// with a persistent journal does.
func needHostJournal(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(hostJournal); err == nil {
		return
	}
	if err := os.Mkdir(hostJournal, 0o755); err != nil {
		t.Fatalf("make %s: %v", hostJournal, err)
	}
	t.Cleanup(func() { _ = os.Remove(hostJournal) })
}

// TestLinkJournalHost boots systemd with --link-journal=host and reads
// what it logged with the host's journalctl, after it is gone; a second
// boot with the default (auto) writes to the same journal.
func TestLinkJournalHost(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	needHostJournal(t)
	id := journalID(t)
	dir := filepath.Join(hostJournal, id)
	name := newMachineName(t)
	marker := "sockspawn-e2e-journal-" + id[:8]

	boot := func(extra ...string) {
		t.Helper()
		args := append(volatileHost(), "-b", "--uuid="+id)
		args = append(args, extra...)
		args = append(args, "--", "systemd.firstboot=off")
		m := startMachine(t, runSpec{Args: args, Notify: true, Name: name})
		m.WaitNotify("READY=1", bootTimeout)
		if got, _ := m.Enter(10*time.Second, "cat", "/etc/machine-id"); got != id {
			t.Fatalf("machine ID inside %q, want %q", got, id)
		}
		if _, err := m.Enter(10*time.Second, "systemd-cat", "-t", marker, "echo", "logged inside "+m.Name); err != nil {
			t.Error(err)
		}
		// journald writes to /var/log/journal/ID once the boot has
		// flushed the runtime journal; ask it to sync to disk.
		if _, err := m.Enter(20*time.Second, "journalctl", "--flush"); err != nil {
			t.Error(err)
		}
		if _, err := m.Enter(20*time.Second, "journalctl", "--sync"); err != nil {
			t.Error(err)
		}
		m.Signal(syscall.SIGTERM)
		if status := m.Wait(shutdownTimeout); status != 0 {
			t.Errorf("exit status %d after SIGTERM; stderr:\n%s", status, tail(m.Stderr.String(), 20))
		}
	}
	boot("--link-journal=host")
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() {
		t.Fatalf("after --link-journal=host there is no directory %s on the host (%v)", dir, err)
	}
	out := hostJournalctl(t, dir, "-t", marker)
	if !strings.Contains(out, "logged inside "+name) {
		t.Errorf("journalctl -D %s -t %s on the host, after the container is gone:\n%s", dir, marker, out)
	}

	// The default, auto, finds the directory and binds it in again.
	boot()
	out = hostJournalctl(t, dir, "--list-boots")
	if n := len(lines(out)); n != 2 {
		t.Errorf("journalctl -D %s --list-boots: %d boots after a host boot and an auto boot, want 2:\n%s", dir, n, out)
	}
	if n := strings.Count(hostJournalctl(t, dir, "-t", marker), "logged inside "+name); n != 2 {
		t.Errorf("the marker is in the host's copy of the journal %d times, want 2", n)
	}

	// --link-journal=no leaves it alone.
	boot("--link-journal=no")
	if n := len(lines(hostJournalctl(t, dir, "--list-boots"))); n != 2 {
		t.Errorf("--link-journal=no: the journal on the host has %d boots, want still 2", n)
	}
}

// hostJournalctl runs the host's journalctl on one journal directory.
func hostJournalctl(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("journalctl", append([]string{"-D", dir, "--no-pager", "-o", "cat"}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("journalctl -D %s %s: %v\n%s", dir, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestLinkJournalGuest keeps the journal in a (writable) image and checks
// the symlink the host gets, and that it leads to what the container
// wrote; a failed start and bad combinations leave nothing behind.
func TestLinkJournalGuest(t *testing.T) {
	needRoot(t)
	t.Parallel()
	needHostJournal(t)
	id := journalID(t)
	link := filepath.Join(hostJournal, id)
	img := t.TempDir()
	for _, d := range []string{"usr", "etc"} {
		if err := os.Mkdir(filepath.Join(img, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{"bin", "lib", "lib64", "sbin"} {
		if err := os.Symlink("usr/"+l, filepath.Join(img, l)); err != nil {
			t.Fatal(err)
		}
	}
	guestDir := filepath.Join(img, "var/log/journal", id)
	run := func(extra ...string) (*machine, int) {
		args := append([]string{"-q", "-D", img, "--uuid=" + id, "--bind-ro=/usr", "--console=pipe"}, extra...)
		return runToEnd(t, runSpec{Args: args})
	}

	m, status := run("--link-journal=guest", "--", "/bin/sh", "-c", "echo written-inside >/var/log/journal/"+id+"/probe")
	if status != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", status, m.Stderr.String())
	}
	if target, err := os.Readlink(link); err != nil || target != guestDir {
		t.Errorf("host %s: readlink %q, %v; want a symlink to %s", link, target, err, guestDir)
	}
	if b, err := os.ReadFile(filepath.Join(link, "probe")); err != nil || string(b) != "written-inside\n" {
		t.Errorf("reading what the container wrote through the host's link: %q, %v", b, err)
	}

	// auto follows the link, and the directory is there for the payload.
	m, status = run("--", "/bin/sh", "-c", "test -d /var/log/journal/"+id)
	if status != 0 {
		t.Errorf("auto after guest: the journal directory is not there inside (status %d; stderr %s)", status, m.Stderr.String())
	}

	// guest with a volatile root: refused before anything is made.
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	m, status = run("--link-journal=guest", "--volatile=state", "--", "/bin/true")
	if status != 1 || !strings.Contains(m.Stderr.String(), "--link-journal=guest") || !strings.Contains(m.Stderr.String(), "volatile=state") {
		t.Errorf("guest with --volatile=state: status %d, stderr %q; want 1 and an error naming both", status, m.Stderr.String())
	}
	if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refused start left %s on the host (%v)", link, err)
	}
	// try-guest with a volatile root quietly does nothing.
	m, status = run("--link-journal=try-guest", "--volatile=state", "--", "/bin/true")
	if status != 0 || m.Stderr.String() != "" {
		t.Errorf("try-guest with --volatile=state: status %d, stderr %q; want 0 and nothing said", status, m.Stderr.String())
	}

	// A start that fails in the stage removes the link it made.
	m, status = run("--link-journal=guest", "--", "/no/such/command")
	if status == 0 || !strings.Contains(m.Stderr.String(), "/no/such/command") {
		t.Errorf("a missing command with --link-journal=guest: status %d, stderr %q; want a failure naming the command", status, m.Stderr.String())
	}
	if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed start left %s on the host (%v)", link, err)
	}
	m, status = run("--link-journal=host", "--", "/no/such/command")
	if status == 0 || !strings.Contains(m.Stderr.String(), "/no/such/command") {
		t.Errorf("a missing command with --link-journal=host: status %d, stderr %q; want a failure naming the command", status, m.Stderr.String())
	}
	if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed start with --link-journal=host left %s on the host (%v)", link, err)
	}

	// The host's own machine ID is refused by name.
	if own, err := os.ReadFile("/etc/machine-id"); err == nil && len(strings.TrimSpace(string(own))) == 32 {
		hostID := strings.TrimSpace(string(own))
		if err := os.WriteFile(filepath.Join(img, "etc/machine-id"), own, 0o444); err != nil {
			t.Fatal(err)
		}
		m, status = run("--link-journal=host", "--", "/bin/true")
		if status != 1 || !strings.Contains(m.Stderr.String(), hostID) || !strings.Contains(m.Stderr.String(), "host's own") {
			t.Errorf("an image with the host's machine ID: status %d, stderr %q; want 1 and an error naming the ID", status, m.Stderr.String())
		}
	}
}
