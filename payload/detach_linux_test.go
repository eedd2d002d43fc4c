package payload

import (
	"path"
	"reflect"
	"strings"
	"testing"
)

func TestMountPointsUnder(t *testing.T) {
	mi := []byte(`22 1 8:1 / / rw - ext4 /dev/vda rw
23 22 0:5 / /run/sockspawn/machines/m/root rw - ext4 /dev/vda ro
24 23 0:6 / /run/sockspawn/machines/m/root/sys rw - sysfs sysfs rw
25 24 0:7 / /run/sockspawn/machines/m/root/sys/fs/cgroup rw - cgroup2 cgroup2 rw
26 23 0:8 / /run/sockspawn/machines/m/root/run/netns rw - tmpfs tmpfs rw
27 23 0:9 / /run/sockspawn/machines/m/root/sys rw - sysfs sysfs rw
28 23 0:10 / /run/sockspawn/machines/m/root/system\040data rw - tmpfs tmpfs rw
29 23 0:11 / /run/sockspawn/machines/m/root/run rw - tmpfs tmpfs rw
30 23 0:12 / /run/sockspawn/machines/m/root/runner rw - tmpfs tmpfs rw
`)
	tests := []struct {
		dir  string
		want []string
	}{
		{"/run/sockspawn/machines/m/root/sys", []string{
			"/run/sockspawn/machines/m/root/sys/fs/cgroup",
			"/run/sockspawn/machines/m/root/sys",
		}},
		// Mounts below a directory that is no mount point itself, and
		// not a sibling that merely starts with the same letters.
		{"/run/sockspawn/machines/m/root/run", []string{
			"/run/sockspawn/machines/m/root/run/netns",
			"/run/sockspawn/machines/m/root/run",
		}},
		{"/run/sockspawn/machines/m/root/system data", []string{"/run/sockspawn/machines/m/root/system data"}},
		{"/run/sockspawn/machines/m/root/tmp", nil},
	}
	for _, tt := range tests {
		if got := mountPointsUnder(mi, tt.dir); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("mountPointsUnder(%s) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}

func TestMountStep(t *testing.T) {
	o := goodOptions()
	o.Binds = []BindMount{{Source: "/srv/a", Target: "/a"}, {Source: "/srv/b", Target: "/b", ReadOnly: true}}
	want := map[string]string{"/proc": "mount /proc", "/a": "--bind=/srv/a:/a", "/b": "--bind-ro=/srv/b:/b"}
	for _, m := range Mounts(o) {
		if w, ok := want[m.Target]; ok {
			if got := mountStep(m); got != w {
				t.Errorf("mountStep(%s) = %q, want %q", m.Target, got, w)
			}
			delete(want, m.Target)
		}
	}
	if len(want) > 0 {
		t.Errorf("no mounts on %v", want)
	}
}

// FuzzMountPointsUnder: whatever mountinfo holds, the points returned lie
// at or below dir, each once, deepest first.
func FuzzMountPointsUnder(f *testing.F) {
	f.Add([]byte("24 23 0:6 / /r/sys rw - sysfs sysfs rw\n25 24 0:7 / /r/sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"), "/r/sys")
	f.Add([]byte("1 2 3 4 /r/a\\040b\n1 2 3 4 /r/a/../a\n1 2 3 4 /ra\n"), "/r/a")
	f.Fuzz(func(t *testing.T, mountinfo []byte, dir string) {
		if !strings.HasPrefix(dir, "/") || path.Clean(dir) != dir {
			return
		}
		got := mountPointsUnder(mountinfo, dir)
		seen := map[string]bool{}
		for i, p := range got {
			if p != dir && !strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/") {
				t.Errorf("%q is not at or below %q", p, dir)
			}
			if seen[p] {
				t.Errorf("%q listed twice", p)
			}
			seen[p] = true
			if i > 0 && strings.Count(p, "/") > strings.Count(got[i-1], "/") {
				t.Errorf("%q comes after the shallower %q", p, got[i-1])
			}
		}
	})
}
