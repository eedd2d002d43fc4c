package payload

import (
	"reflect"
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
