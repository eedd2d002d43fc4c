//go:build linux

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// viewReport is the probe's report of `probe view`.
type viewReport struct {
	Pid      int               `json:"pid"`
	Marker   string            `json:"marker"`
	Mounts   map[string]string `json:"mounts"`
	ProcSelf bool              `json:"proc_self"`
	Notify   string            `json:"notify"`
	Reads    map[string]string `json:"reads"`
	Writes   map[string]string `json:"writes"`
}

// hostileEnv is one hostile image and what surrounds it on the host.
type hostileEnv struct {
	Base     string // holds all of the below; snapshotted but for Image
	Image    string // the image directory, -D
	Marker   string // content of the image's /image-marker
	Sentinel string // a host directory outside the image, with files
	SentFile string // a file in Sentinel
	BindSrc  string // a host directory the cases bind into the container
	RunSrc   string // a host directory the cases bind onto /run
	Probe    string // the probe on the host
}

// hostileCase is one way an image, or a bind into it, points outside.
type hostileCase struct {
	Name    string
	Setup   func(t *testing.T, e *hostileEnv) // makes the image hostile
	Args    func(e *hostileEnv) []string      // more sockspawn options
	View    func(e *hostileEnv) []string      // arguments of `probe view`
	Culprit func(e *hostileEnv) []string      // an error must name one of these
	Check   func(t *testing.T, e *hostileEnv, r viewReport)
}

func hostileCases() []hostileCase {
	var cases []hostileCase
	targets := map[string]func(e *hostileEnv) string{
		"root":      func(*hostileEnv) string { return "/" },
		"dotdot":    func(*hostileEnv) string { return ".." },
		"etc":       func(*hostileEnv) string { return "/etc" },
		"host-path": func(e *hostileEnv) string { return e.Sentinel },
	}
	targetNames := []string{"root", "dotdot", "etc", "host-path"}
	names := func(ps ...string) func(*hostileEnv) []string {
		return func(*hostileEnv) []string { return ps }
	}
	// The API file systems' mount points as symlinks, and as files.
	for _, dir := range []string{"/dev", "/proc", "/sys", "/run", "/tmp", "/run/host"} {
		for _, tn := range targetNames {
			target := targets[tn]
			cases = append(cases, hostileCase{
				Name: "symlink" + strings.ReplaceAll(dir, "/", "-") + "-to-" + tn,
				Setup: func(t *testing.T, e *hostileEnv) {
					replaceWithSymlink(t, filepath.Join(e.Image, dir), target(e))
				},
				Culprit: names(dir),
			})
		}
		if dir != "/run/host" {
			cases = append(cases, hostileCase{
				Name: "file" + strings.ReplaceAll(dir, "/", "-"),
				Setup: func(t *testing.T, e *hostileEnv) {
					p := filepath.Join(e.Image, dir)
					mustOK(t, os.RemoveAll(p))
					mustOK(t, os.WriteFile(p, []byte("a file where a directory belongs\n"), 0o644))
				},
				Culprit: names(dir),
			})
		}
	}
	// /run/host as a symlink in a host directory bound onto /run.
	for _, tn := range []string{"root", "host-path"} {
		target := targets[tn]
		cases = append(cases, hostileCase{
			Name:    "bind-run-with-host-symlink-to-" + tn,
			Setup:   func(t *testing.T, e *hostileEnv) { mustOK(t, os.Symlink(target(e), filepath.Join(e.RunSrc, "host"))) },
			Args:    func(e *hostileEnv) []string { return []string{"--bind=" + e.RunSrc + ":/run"} },
			Culprit: names("/run/host"),
		})
	}
	// /etc/machine-id and /etc/localtime pointing at host files; the
	// payload writes through them.
	for _, how := range []string{"absolute", "dotdot"} {
		cases = append(cases, hostileCase{
			Name: "etc-links-" + how + "-to-host-files",
			Setup: func(t *testing.T, e *hostileEnv) {
				target := e.SentFile
				if how == "dotdot" {
					target = strings.Repeat("../", 12) + strings.TrimPrefix(e.SentFile, "/")
				}
				mustOK(t, os.Symlink(target, filepath.Join(e.Image, "etc/machine-id")))
				mustOK(t, os.Symlink(target, filepath.Join(e.Image, "etc/localtime")))
			},
			View:    names("-write=/etc/machine-id", "-write=/etc/localtime", "-read=/etc/machine-id"),
			Culprit: names("/etc/machine-id", "/etc/localtime"),
			Check: func(t *testing.T, e *hostileEnv, r viewReport) {
				if got := r.Reads["/etc/machine-id"]; strings.Contains(got, "sentinel") {
					t.Errorf("inside, /etc/machine-id reads the host's sentinel file: %q", got)
				}
			},
		})
	}
	// A --bind target that is a symlink out of the image, or onto one of
	// the container's own mounts, or whose parent is a symlink.
	targets["run"] = func(*hostileEnv) string { return "/run" }
	for _, tn := range append(targetNames, "run") {
		target := targets[tn]
		for _, opt := range []string{"--bind", "--bind-ro"} {
			cases = append(cases, hostileCase{
				Name:    strings.TrimPrefix(opt, "--") + "-target-symlink-to-" + tn,
				Setup:   func(t *testing.T, e *hostileEnv) { mustOK(t, os.Symlink(target(e), filepath.Join(e.Image, "mnt/x"))) },
				Args:    func(e *hostileEnv) []string { return []string{opt + "=" + e.BindSrc + ":/mnt/x"} },
				View:    names("-read=/mnt/x/bind-marker"),
				Culprit: names("/mnt/x"),
				Check: func(t *testing.T, e *hostileEnv, r viewReport) {
					if got := r.Reads["/mnt/x/bind-marker"]; got != "bind source\n" {
						t.Logf("the bind source is not visible at /mnt/x inside: %q", got)
					}
				},
			})
		}
	}
	cases = append(cases, hostileCase{
		Name: "bind-target-parent-symlink-to-host-path",
		Setup: func(t *testing.T, e *hostileEnv) {
			mustOK(t, os.Remove(filepath.Join(e.Image, "mnt")))
			mustOK(t, os.Symlink(e.Sentinel, filepath.Join(e.Image, "mnt")))
		},
		Args:    func(e *hostileEnv) []string { return []string{"--bind=" + e.BindSrc + ":/mnt/x"} },
		Culprit: names("/mnt"),
	})
	// --volatile=yes mounts the image's /usr: a /usr that points
	// elsewhere.
	cases = append(cases, hostileCase{
		Name: "volatile-usr-symlink-to-root",
		Setup: func(t *testing.T, e *hostileEnv) {
			mustOK(t, os.MkdirAll(filepath.Join(e.Image, "lib/systemd"), 0o755))
			linkOrCopy(t, e.Probe, filepath.Join(e.Image, "lib/systemd/systemd"))
			replaceWithSymlink(t, filepath.Join(e.Image, "usr"), "/")
		},
		Args:    names("--volatile=yes"),
		View:    names("-marker=/usr/image-marker"),
		Culprit: names("/usr"),
	}, hostileCase{
		Name: "volatile-usr-symlink-to-host-path",
		Setup: func(t *testing.T, e *hostileEnv) {
			// The host path holds an init: it must not be found.
			mustOK(t, os.MkdirAll(filepath.Join(e.Sentinel, "lib/systemd"), 0o755))
			linkOrCopy(t, e.Probe, filepath.Join(e.Sentinel, "lib/systemd/systemd"))
			replaceWithSymlink(t, filepath.Join(e.Image, "usr"), e.Sentinel)
		},
		Args:    names("--volatile=yes"),
		View:    names("-marker=/usr/image-marker"),
		Culprit: func(e *hostileEnv) []string { return []string{"/usr", e.Image} },
	})
	// The init itself pointing at the host's probe.
	for _, how := range []string{"absolute", "dotdot"} {
		cases = append(cases, hostileCase{
			Name: "init-symlink-" + how + "-to-host-binary",
			Setup: func(t *testing.T, e *hostileEnv) {
				target := e.Probe
				if how == "dotdot" {
					target = strings.Repeat("../", 12) + strings.TrimPrefix(e.Probe, "/")
				}
				mustOK(t, os.Remove(filepath.Join(e.Image, "sbin/init")))
				mustOK(t, os.Symlink(target, filepath.Join(e.Image, "sbin/init")))
			},
			Culprit: func(e *hostileEnv) []string { return []string{"/sbin/init", e.Image} },
		})
	}
	return cases
}

// TestBoundaryHostileImages boots images that point outside themselves
// through symlinks, files in the place of directories and bind targets.
// Each must either boot confined (the probe, as the image's init, sees
// its own API file systems and its own marker) or fail with one line
// naming the path; either way the host must be untouched: the mount
// table, the files around the image (content, mode, owner, times), the
// host's / and /etc, and the owners of the image's own files.
//
// The cases run one at a time and the test is not parallel: the host's
// mount table is compared before and after each.
func TestBoundaryHostileImages(t *testing.T) {
	needRoot(t)
	probe := needProbe(t)
	for _, c := range hostileCases() {
		t.Run(c.Name, func(t *testing.T) {
			e := newHostileEnv(t, probe)
			c.Setup(t, e)
			before := snapshotHost(t, e)

			args := []string{"-D", e.Image, "--console=pipe", "-q"}
			if c.Args != nil {
				args = append(args, c.Args(e)...)
			}
			args = append(args, "-b", "--", "view")
			if c.View != nil {
				args = append(args, c.View(e)...)
			}
			m, status := runToEnd(t, runSpec{Args: args})
			stderr := strings.TrimSpace(m.Stderr.String())
			switch status {
			case 0:
				var r viewReport
				parseProbe(t, m.Stdout.String(), &r)
				checkConfined(t, e, r)
				if c.Check != nil {
					c.Check(t, e, r)
				}
				t.Logf("booted confined; writes %v", r.Writes)
			case 1:
				culprits := c.Culprit(e)
				if l := lines(stderr); len(l) != 1 {
					t.Errorf("failed with %d lines on stderr, want one:\n%s", len(l), stderr)
				}
				if !slices.ContainsFunc(culprits, func(s string) bool { return strings.Contains(stderr, s) }) {
					t.Errorf("the error does not name any of %q: %s", culprits, stderr)
				}
				t.Logf("refused: %s", stderr)
			default:
				t.Errorf("sockspawn exited with %d, want 0 (booted confined) or 1 (refused); stdout:\n%s\nstderr:\n%s", status, tail(m.Stdout.String(), 10), stderr)
			}
			compareHost(t, before, snapshotHost(t, e))
		})
	}
}

// newHostileEnv builds a minimal image whose init is the probe, with a
// sentinel directory, a bind source and a /run source next to it.
func newHostileEnv(t *testing.T, probe string) *hostileEnv {
	t.Helper()
	base := t.TempDir()
	e := &hostileEnv{
		Base:     base,
		Image:    filepath.Join(base, "image"),
		Marker:   "image " + randomNonce(t),
		Sentinel: filepath.Join(base, "sentinel"),
		BindSrc:  filepath.Join(base, "bindsrc"),
		RunSrc:   filepath.Join(base, "runsrc"),
		Probe:    probe,
	}
	e.SentFile = filepath.Join(e.Sentinel, "file")
	for _, d := range []string{"sbin", "etc", "dev", "proc", "sys", "run/host", "tmp", "mnt", "usr"} {
		mustOK(t, os.MkdirAll(filepath.Join(e.Image, d), 0o755))
	}
	for _, d := range []string{e.Sentinel, e.BindSrc, e.RunSrc} {
		mustOK(t, os.MkdirAll(d, 0o755))
	}
	linkOrCopy(t, probe, filepath.Join(e.Image, "sbin/init"))
	mustOK(t, os.WriteFile(filepath.Join(e.Image, "image-marker"), []byte(e.Marker+"\n"), 0o644))
	mustOK(t, os.WriteFile(filepath.Join(e.Image, "usr/image-marker"), []byte(e.Marker+"\n"), 0o644))
	mustOK(t, os.WriteFile(e.SentFile, []byte("sentinel: the host's file\n"), 0o644))
	mustOK(t, os.WriteFile(filepath.Join(e.Sentinel, "other"), []byte("sentinel too\n"), 0o600))
	mustOK(t, os.WriteFile(filepath.Join(e.BindSrc, "bind-marker"), []byte("bind source\n"), 0o644))
	// Old times, so that any change shows.
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{e.SentFile, filepath.Join(e.Sentinel, "other"), e.Sentinel, filepath.Join(e.BindSrc, "bind-marker"), e.BindSrc, e.RunSrc} {
		mustOK(t, os.Chtimes(p, old, old))
	}
	return e
}

// checkConfined checks the probe's view of a container that booted.
func checkConfined(t *testing.T, e *hostileEnv, r viewReport) {
	t.Helper()
	if r.Pid != 1 {
		t.Errorf("the probe ran as pid %d, want 1", r.Pid)
	}
	if r.Marker != e.Marker {
		t.Errorf("inside, the image's marker reads %q, want %q: the root is not the image", r.Marker, e.Marker)
	}
	want := map[string]string{"/proc": "proc", "/sys": "sysfs", "/dev": "tmpfs", "/tmp": "tmpfs", "/run/host": "tmpfs"}
	for p, fstype := range want {
		if got := r.Mounts[p]; got != fstype {
			t.Errorf("inside, %s is %q, want %s", p, got, fstype)
		}
	}
	if !r.ProcSelf {
		t.Errorf("inside, /proc/self is not the probe: /proc is not the container's")
	}
	if r.Notify != "socket" {
		t.Errorf("inside, /run/host/notify is %s, want a socket", r.Notify)
	}
}

// hostSnapshot is what the tests compare on the host before and after a
// hostile image ran.
type hostSnapshot struct {
	Mounts []string
	Around map[string]string // everything below Base but the image
	Host   map[string]string // the host's / and /etc, and key directories
	Image  map[string]string // owner and mode of the image's files
}

func snapshotHost(t *testing.T, e *hostileEnv) hostSnapshot {
	t.Helper()
	s := hostSnapshot{Mounts: mountinfo(t), Around: map[string]string{}, Host: map[string]string{}, Image: map[string]string{}}
	_ = filepath.WalkDir(e.Base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			s.Around[p] = "error: " + err.Error()
			return nil
		}
		if p == e.Image {
			return fs.SkipDir
		}
		s.Around[p] = describeFile(p, true)
		return nil
	})
	_ = filepath.WalkDir(e.Image, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			s.Image[p] = describeFile(p, false)
		}
		return nil
	})
	for _, p := range []string{"/", "/etc"} {
		ents, _ := os.ReadDir(p)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		s.Host[p+" entries"] = strings.Join(names, " ")
	}
	for _, p := range []string{"/", "/etc", "/dev", "/proc", "/sys", "/run", "/tmp", "/usr", "/sbin", "/etc/machine-id", "/etc/localtime"} {
		s.Host[p] = describeFile(p, false)
	}
	return s
}

// describeFile describes p without following a symlink: type, mode,
// owner, and with full also size, modification time, a hash of a regular
// file's content and a symlink's target.
func describeFile(p string, full bool) string {
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return "error: " + err.Error()
	}
	d := fmt.Sprintf("mode %o uid %d gid %d", st.Mode, st.Uid, st.Gid)
	if !full {
		return d
	}
	d += fmt.Sprintf(" size %d mtime %d.%09d", st.Size, st.Mtim.Sec, st.Mtim.Nsec)
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		b, err := os.ReadFile(p)
		if err != nil {
			return d + " read error: " + err.Error()
		}
		sum := sha256.Sum256(b)
		d += " sha256 " + hex.EncodeToString(sum[:8])
	case syscall.S_IFLNK:
		l, _ := os.Readlink(p)
		d += " -> " + l
	}
	return d
}

// compareHost reports every difference between two snapshots: on the
// image's files only changed owners and modes count (the stage may add
// mount points).
func compareHost(t *testing.T, before, after hostSnapshot) {
	t.Helper()
	added, removed := diffLines(before.Mounts, after.Mounts)
	for _, l := range added {
		t.Errorf("a new mount on the host: %s", l)
	}
	for _, l := range removed {
		t.Errorf("a mount is gone from the host: %s", l)
	}
	if len(before.Mounts) != len(after.Mounts) {
		t.Errorf("the host's mount table went from %d to %d lines", len(before.Mounts), len(after.Mounts))
	}
	diffMaps(t, "next to the image", before.Around, after.Around, true)
	diffMaps(t, "on the host", before.Host, after.Host, true)
	diffMaps(t, "in the image", before.Image, after.Image, false)
}

func diffMaps(t *testing.T, where string, before, after map[string]string, strict bool) {
	t.Helper()
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b, inBefore := before[k]
		a, inAfter := after[k]
		switch {
		case !inBefore && strict:
			t.Errorf("%s, %s was created: %s", where, k, a)
		case !inAfter && strict:
			t.Errorf("%s, %s is gone (was %s)", where, k, b)
		case inBefore && inAfter && a != b:
			t.Errorf("%s, %s changed: %s, was %s", where, k, a, b)
		}
	}
}

func diffLines(before, after []string) (added, removed []string) {
	in := func(s []string, x string) bool { return slices.Contains(s, x) }
	for _, l := range after {
		if !in(before, l) {
			added = append(added, l)
		}
	}
	for _, l := range before {
		if !in(after, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

// replaceWithSymlink replaces the directory p with a symlink to target.
func replaceWithSymlink(t *testing.T, p, target string) {
	t.Helper()
	mustOK(t, os.RemoveAll(p))
	mustOK(t, os.Symlink(target, p))
}

// linkOrCopy puts the file src at dst: a hard link where possible.
func linkOrCopy(t *testing.T, src, dst string) {
	t.Helper()
	if os.Link(src, dst) == nil {
		return
	}
	copyExecutable(t, src, dst, 0o755)
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
