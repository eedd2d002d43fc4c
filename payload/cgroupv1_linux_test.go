package payload

import (
	"path"
	"reflect"
	"testing"
)

func TestV1Hierarchies(t *testing.T) {
	const mountinfo = `23 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu
33 31 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
34 31 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
35 31 0:32 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
36 31 0:33 /sub /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/odd\040dir rw - cgroup cgroup rw,blkio
`
	tests := []struct {
		name, cgroup string
		want         []V1Hierarchy
	}{{
		name: "controllers in either order, name=, escapes",
		cgroup: "6:blkio:/b\n5:memory:/m\n4:pids:/system.slice/web\n3:cpu,cpuacct:/c\n" +
			"1:name=systemd:/system.slice/web\n0::/system.slice/web\n",
		want: []V1Hierarchy{
			{Mount: "/sys/fs/cgroup/cpu,cpuacct", Own: "/c"},
			{Mount: "/sys/fs/cgroup/pids", Own: "/system.slice/web"},
			{Mount: "/sys/fs/cgroup/systemd", Own: "/system.slice/web"},
			{Mount: "/sys/fs/cgroup/odd dir", Own: "/b"},
		},
	}, {
		name:   "outside the namespace, relative and missing paths are skipped",
		cgroup: "4:pids:/../up\n3:cpu,cpuacct:rel\n0::/\n",
	}, {
		// The kernel ends lines with "\n" only: a "\r" belongs to the name.
		name:   "a carriage return in a cgroup's name",
		cgroup: "4:pids:/web\r\n0::/\n",
		want:   []V1Hierarchy{{Mount: "/sys/fs/cgroup/pids", Own: "/web\r"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := V1Hierarchies([]byte(mountinfo), []byte(tt.cgroup)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("V1Hierarchies:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func FuzzV1Hierarchies(f *testing.F) {
	f.Add([]byte("32 31 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"), []byte("4:pids:/a\n0::/a\n"))
	f.Add([]byte("x - cgroup\n"), []byte(":::\n"))
	f.Fuzz(func(t *testing.T, mountinfo, cgroup []byte) {
		for _, h := range V1Hierarchies(mountinfo, cgroup) {
			if h.Mount == "" || !isAbsClean(h.Own) {
				t.Fatalf("V1Hierarchies gave %+v: want a mount and a clean absolute path", h)
			}
		}
	})
}

func isAbsClean(p string) bool { return len(p) > 0 && p[0] == '/' && path.Clean(p) == p }
