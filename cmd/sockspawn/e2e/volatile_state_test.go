//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The --volatile=state tests: the image is read-only, /var is a fresh
// tmpfs, and nothing changes on the host. They are not parallel: the
// host's mount table is compared before and after.

// stateScript reports, one "key: value" line each, what a payload sees
// with --volatile=state; $1 is a name no other run uses.
const stateScript = `n=$1
if touch /etc/$n 2>/dev/null; then echo "etc: writable"; else echo "etc: read-only"; fi
if [ -e /var/tmp/$n ]; then echo "var: the image's"; else echo "var: fresh"; fi
echo "var fs: $(stat -f -c %T /var)"
if echo inside > /var/$n && [ "$(cat /var/$n)" = inside ]; then echo "var write: ok"; fi
if [ -e /run/host/os-release ]; then echo "run/host: there"; fi
for d in /proc /sys /dev /run /tmp /var; do
	echo "mounts on $d: $(awk -v d=$d '$5 == d' /proc/self/mountinfo | wc -l)"
done
echo "host mounts below /run: $(awk '$5 ~ "^/run/" && $5 !~ "^/run/host(/|$)"' /proc/self/mountinfo | wc -l)"
`

// parseKeyLines reads the "key: value" lines of out.
func parseKeyLines(out string) map[string]string {
	kv := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, ": "); ok {
			kv[k] = v
		}
	}
	return kv
}

// checkStateView checks what stateScript saw.
func checkStateView(t *testing.T, out string) {
	t.Helper()
	want := map[string]string{
		"etc":       "read-only",
		"var":       "fresh",
		"var fs":    "tmpfs",
		"var write": "ok",
		"run/host":  "there",
		// The image's own mounts there (with -D /, the host's) are
		// detached, not hidden beneath sockspawn's.
		"mounts on /proc":        "1",
		"mounts on /sys":         "1",
		"mounts on /dev":         "1",
		"mounts on /run":         "1",
		"mounts on /tmp":         "1",
		"mounts on /var":         "1",
		"host mounts below /run": "0",
	}
	got := parseKeyLines(out)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("inside, %s: %q, want %q", k, got[k], v)
		}
	}
	if t.Failed() {
		t.Logf("the payload's output:\n%s", out)
	}
}

// hostFiles describes, in full (content, times), the files the payload
// touches or must not see, plus the entries of the directories they are
// in.
func hostFiles(paths ...string) map[string]string {
	d := map[string]string{}
	for _, p := range paths {
		d[p] = describeFile(p, true)
		dir := filepath.Dir(p)
		ents, _ := os.ReadDir(dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		d[dir+" entries"] = strings.Join(names, " ")
	}
	return d
}

// TestVolatileStateHostRoot runs this machine's own OS with
// --volatile=state (-D /): the host's root is read-only inside, /var is
// a fresh tmpfs without the host's files, and neither the host's files
// nor its mount table change. It also boots systemd so, to the point
// where it reports READY=1, and stops it.
func TestVolatileStateHostRoot(t *testing.T) {
	needRoot(t)
	n := "sockspawn-e2e-state-" + randomNonce(t)
	hostVar := filepath.Join("/var/tmp", n)
	mustOK(t, os.WriteFile(hostVar, []byte("the host's\n"), 0o644))
	t.Cleanup(func() { os.Remove(hostVar) })
	watched := []string{filepath.Join("/etc", n), filepath.Join("/var", n), hostVar}
	before, beforeMounts := hostFiles(watched...), mountinfo(t)

	m, status := runToEnd(t, runSpec{Args: []string{"-D", "/", "--volatile=state", "-q", "--pipe", "--", "/bin/sh", "-c", stateScript, "sh", n}})
	if status != 0 {
		t.Fatalf("sockspawn exited with %d; stderr:\n%s", status, m.Stderr.String())
	}
	checkStateView(t, m.Stdout.String())
	diffMaps(t, "on the host", before, hostFiles(watched...), true)
	added, removed := diffLines(beforeMounts, mountinfo(t))
	for _, l := range added {
		t.Errorf("a new mount on the host: %s", l)
	}
	for _, l := range removed {
		t.Errorf("a mount is gone from the host: %s", l)
	}

	t.Run("boot", func(t *testing.T) {
		needSystemd(t)
		m := startMachine(t, runSpec{Args: []string{"-D", "/", "--volatile=state", "-b", "--console=passive", "--", "systemd.firstboot=off"}, Notify: true})
		m.Leader()
		m.WaitNotify("READY=1", bootTimeout)
		if out, err := m.Enter(10*time.Second, "findmnt", "-n", "-o", "FSTYPE", "/var"); err != nil || out != "tmpfs" {
			t.Errorf("inside the booted system, /var is %q (%v), want tmpfs", out, err)
		}
		if _, err := m.Enter(10*time.Second, "touch", filepath.Join("/etc", n)); err == nil {
			t.Errorf("inside the booted system, /etc is writable")
		}
		m.Signal(syscall.SIGTERM)
		if status := m.Wait(shutdownTimeout); status != 0 {
			t.Errorf("SIGTERM: sockspawn exited with %d, want 0; stderr:\n%s", status, tail(m.Stderr.String(), 20))
		}
		diffMaps(t, "on the host", before, hostFiles(watched...), true)
	})
}

// TestVolatileStateDirectory runs a directory image with
// --volatile=state: its files cannot be written, its /var is replaced by
// a fresh tmpfs, and not one of its files changes, not even in time.
func TestVolatileStateDirectory(t *testing.T) {
	needRoot(t)
	probe := needProbe(t)
	e := newHostileEnv(t, probe)
	for _, d := range []string{"var/tmp", "bin"} {
		mustOK(t, os.MkdirAll(filepath.Join(e.Image, d), 0o755))
	}
	mustOK(t, os.WriteFile(filepath.Join(e.Image, "var/tmp/image-var"), []byte("the image's /var\n"), 0o644))
	mustOK(t, os.WriteFile(filepath.Join(e.Image, "etc/image-etc"), []byte("the image's /etc\n"), 0o644))
	old := time.Now().Add(-time.Hour)
	_ = filepath.WalkDir(e.Image, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			_ = os.Chtimes(p, old, old)
		}
		return nil
	})
	imageBefore := map[string]string{}
	_ = filepath.WalkDir(e.Image, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			imageBefore[p] = describeFile(p, true)
		}
		return nil
	})
	before := snapshotHost(t, e)

	m, status := runToEnd(t, runSpec{Args: []string{"-D", e.Image, "--volatile=state", "-q", "--pipe", "-b", "--",
		"view", "-read=/var/tmp/image-var", "-write=/etc/image-etc", "-write=/image-marker"}})
	if status != 0 {
		t.Fatalf("sockspawn exited with %d; stderr:\n%s", status, m.Stderr.String())
	}
	var r viewReport
	parseProbe(t, m.Stdout.String(), &r)
	checkConfined(t, e, r)
	for _, p := range []string{"/etc/image-etc", "/image-marker"} {
		if r.Writes[p] != "EROFS" {
			t.Errorf("inside, writing the image's %s: %q, want EROFS (the image read-only)", p, r.Writes[p])
		}
	}
	if got := r.Reads["/var/tmp/image-var"]; got != "error: ENOENT" {
		t.Errorf("inside, the image's /var/tmp/image-var reads %q, want ENOENT (/var fresh)", got)
	}
	if r.Mounts["/var"] != "tmpfs" {
		t.Errorf("inside, /var is %q, want tmpfs", r.Mounts["/var"])
	}
	compareHost(t, before, snapshotHost(t, e))
	imageAfter := map[string]string{}
	_ = filepath.WalkDir(e.Image, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			imageAfter[p] = describeFile(p, true)
		}
		return nil
	})
	diffMaps(t, "in the image", imageBefore, imageAfter, true)
}
