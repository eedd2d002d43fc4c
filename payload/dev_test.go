package payload

import (
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestDevNodes(t *testing.T) {
	// Exactly the nodes the Container Interface lists, plus /dev/net/tun,
	// with the kernel's fixed numbers (Documentation/admin-guide/devices.txt).
	want := map[string][2]uint32{
		"null":    {1, 3},
		"zero":    {1, 5},
		"full":    {1, 7},
		"random":  {1, 8},
		"urandom": {1, 9},
		"tty":     {5, 0},
		"ptmx":    {5, 2},
		"net/tun": {10, 200},
	}
	got := DevNodes()
	if len(got) != len(want) {
		t.Errorf("DevNodes() has %d nodes, want %d: %+v", len(got), len(want), got)
	}
	seen := map[string]bool{}
	for _, d := range got {
		if seen[d.Name] {
			t.Errorf("node %s listed twice", d.Name)
		}
		seen[d.Name] = true
		mm, ok := want[d.Name]
		if !ok {
			t.Errorf("unexpected node /dev/%s", d.Name)
			continue
		}
		if d.Major != mm[0] || d.Minor != mm[1] {
			t.Errorf("/dev/%s is %d:%d, want %d:%d", d.Name, d.Major, d.Minor, mm[0], mm[1])
		}
		if d.Mode != 0o666 {
			t.Errorf("/dev/%s has mode %o, want 666", d.Name, d.Mode)
		}
		if strings.HasPrefix(d.Name, "/") || strings.Contains(d.Name, "..") {
			t.Errorf("node name %q is not a relative path below /dev", d.Name)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("missing node /dev/%s", name)
		}
	}
}

func TestDevNodesFreshSlice(t *testing.T) {
	a := DevNodes()
	a[0].Major = 99
	if DevNodes()[0].Major == 99 {
		t.Error("DevNodes returns shared state")
	}
}

func TestDevSymlinks(t *testing.T) {
	want := []Symlink{
		{Path: "/dev/fd", Target: "/proc/self/fd"},
		{Path: "/dev/stdin", Target: "/proc/self/fd/0"},
		{Path: "/dev/stdout", Target: "/proc/self/fd/1"},
		{Path: "/dev/stderr", Target: "/proc/self/fd/2"},
	}
	if got := DevSymlinks(); !reflect.DeepEqual(got, want) {
		t.Errorf("DevSymlinks() = %+v, want %+v", got, want)
	}
}

func TestBaseSymlinks(t *testing.T) {
	merged := []Symlink{
		{Path: "/bin", Target: "usr/bin"},
		{Path: "/sbin", Target: "usr/sbin"},
		{Path: "/lib", Target: "usr/lib"},
		{Path: "/lib64", Target: "usr/lib64"},
	}
	tests := []struct {
		volatile systemd.Volatile
		want     []Symlink
	}{
		{systemd.VolatileYes, merged},
		{systemd.VolatileState, nil},
		{systemd.VolatileNo, nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := baseSymlinks(tt.volatile); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("baseSymlinks(%q) = %+v, want %+v", tt.volatile, got, tt.want)
		}
	}
}

func TestLocaltimeLink(t *testing.T) {
	berlin := Symlink{Path: "/etc/localtime", Target: "../usr/share/zoneinfo/Europe/Berlin"}
	replace := berlin
	replace.Replace = true
	tests := []struct {
		volatile   systemd.Volatile
		mode, zone string
		want       []Symlink
	}{
		{systemd.VolatileYes, "", "Europe/Berlin", []Symlink{berlin}},
		{systemd.VolatileYes, TimezoneAuto, "Europe/Berlin", []Symlink{berlin}},
		{systemd.VolatileYes, TimezoneOff, "Europe/Berlin", nil},
		{systemd.VolatileYes, "", "", nil},
		{systemd.VolatileNo, TimezoneAuto, "Europe/Berlin", nil},
		{systemd.VolatileNo, TimezoneSymlink, "Europe/Berlin", []Symlink{replace}},
		{systemd.VolatileYes, TimezoneSymlink, "Europe/Berlin", []Symlink{replace}},
		{systemd.VolatileState, TimezoneSymlink, "Europe/Berlin", nil},
	}
	for _, tt := range tests {
		got := localtimeLink(Options{Volatile: tt.volatile, TimezoneMode: tt.mode, Timezone: tt.zone})
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("localtimeLink(volatile=%s, %q, %q) = %+v, want %+v", tt.volatile, tt.mode, tt.zone, got, tt.want)
		}
	}
	// Relative: it resolves inside the container whatever root the stage
	// builds on, and lands in the image's zoneinfo.
	if got := path.Join(path.Dir(berlin.Path), berlin.Target); !strings.HasPrefix(berlin.Target, "../") || !strings.HasPrefix(got, "/usr/share/zoneinfo/") {
		t.Errorf("%s -> %s resolves to %s", berlin.Path, berlin.Target, got)
	}
}

func TestBaseDirs(t *testing.T) {
	tests := []struct {
		volatile systemd.Volatile
		want     []string
	}{
		{systemd.VolatileYes, []string{"/etc", "/var"}},
		{systemd.VolatileState, nil},
		{systemd.VolatileNo, nil},
	}
	for _, tt := range tests {
		if got := baseDirs(tt.volatile); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("baseDirs(%q) = %q, want %q", tt.volatile, got, tt.want)
		}
	}
}

func TestPlanSymlinksAndDirs(t *testing.T) {
	for _, v := range []systemd.Volatile{systemd.VolatileNo, systemd.VolatileYes, systemd.VolatileState} {
		for _, tz := range []string{"", "America/New_York"} {
			o := goodOptions()
			o.Volatile = v
			o.Timezone = tz
			p, err := NewPlan(o)
			if err != nil {
				t.Fatal(err)
			}
			want := append(append(baseSymlinks(v), localtimeLink(o)...), DevSymlinks()...)
			if !reflect.DeepEqual(p.Symlinks, want) {
				t.Errorf("volatile=%s timezone=%q: Symlinks = %+v, want %+v", v, tz, p.Symlinks, want)
			}
			if !reflect.DeepEqual(p.Dirs, baseDirs(v)) {
				t.Errorf("volatile=%s: Dirs = %q, want %q", v, p.Dirs, baseDirs(v))
			}
		}
	}
}
