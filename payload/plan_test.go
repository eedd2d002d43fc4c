package payload

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// goodOptions returns Options that NewPlan accepts; tests change one thing.
func goodOptions() Options {
	return Options{
		Image:    "/var/lib/machines/web",
		Root:     "/run/sockspawn/web/root",
		Hostname: "web",
		Console:  ConsolePTY,
		Argv:     []string{"/usr/lib/systemd/systemd"},
		Env:      []string{"container=sockspawn"},
		UUID:     "0123456789abcdef0123456789abcdef",
	}
}

func TestNewPlanRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		change  func(o *Options)
		wantErr string // a substring of the error
	}{
		{"relative image", func(o *Options) { o.Image = "machines/web" }, `"machines/web"`},
		{"empty image", func(o *Options) { o.Image = "" }, "image directory"},
		{"relative root", func(o *Options) { o.Root = "root" }, `"root"`},
		{"empty root", func(o *Options) { o.Root = "" }, "staging directory"},
		{"no argv", func(o *Options) { o.Argv = nil }, "no command"},
		{"empty argv0", func(o *Options) { o.Argv = []string{"", "x"} }, "no command"},
		{"unknown volatile", func(o *Options) { o.Volatile = "overlay" }, `"overlay"`},
		{"empty console", func(o *Options) { o.Console = "" }, "console"},
		{"unknown console", func(o *Options) { o.Console = "interactive" }, `"interactive"`},
		{"relative bind source", func(o *Options) { o.Binds = []BindMount{{Source: "srv", Target: "/srv"}} }, "srv:/srv"},
		{"relative bind target", func(o *Options) { o.Binds = []BindMount{{Source: "/srv", Target: "srv"}} }, "/srv:srv"},
		{"empty bind target", func(o *Options) { o.Binds = []BindMount{{Source: "/srv"}} }, "absolute"},
		{"bad bind after good", func(o *Options) {
			o.Binds = []BindMount{{Source: "/a", Target: "/a"}, {Source: "/b", Target: "b"}}
		}, "/b:b"},
		{"negative listen fds", func(o *Options) { o.ListenFDs = -1 }, "listening fds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := goodOptions()
			tt.change(&o)
			p, err := NewPlan(o)
			if err == nil {
				t.Fatalf("NewPlan accepted %+v: %+v", o, p)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewPlanCopiesOptions(t *testing.T) {
	o := goodOptions()
	o.ListenFDs = 2
	o.AsPid2 = true
	o.Console = ConsolePipe
	o.Argv = []string{"/bin/sh", "-c", "true"}
	o.OSRelease = []byte("ID=fedora\n")
	o.Credentials = []File{{Name: "pw", Data: []byte("x")}}
	p, err := NewPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Root != o.Root || p.ImageDir != o.Image || p.Hostname != o.Hostname || p.Console != o.Console ||
		p.ListenFDs != 2 || !p.AsPid2 {
		t.Errorf("plan does not carry the options: %+v", p)
	}
	if !reflect.DeepEqual(p.Argv, o.Argv) || !reflect.DeepEqual(p.Env, o.Env) {
		t.Errorf("argv/env = %q/%q, want %q/%q", p.Argv, p.Env, o.Argv, o.Env)
	}
	if want := NewRunHost(o.UUID, o.OSRelease, o.Credentials); !reflect.DeepEqual(p.RunHost, want) {
		t.Errorf("RunHost = %+v, want %+v", p.RunHost, want)
	}
	if !reflect.DeepEqual(p.Devices, DevNodes()) {
		t.Errorf("Devices = %+v, want DevNodes()", p.Devices)
	}
	if !reflect.DeepEqual(p.DropCaps, sortedInts(DroppedCapabilities(false))) {
		t.Errorf("DropCaps = %v, want DroppedCapabilities(false)", p.DropCaps)
	}
	o.PrivateNetwork = true
	if p, _ := NewPlan(o); !reflect.DeepEqual(p.DropCaps, sortedInts(DroppedCapabilities(true))) {
		t.Errorf("with a private network DropCaps = %v, want DroppedCapabilities(true)", p.DropCaps)
	}
	// The user's --capability keeps, --drop-capability drops.
	o.PrivateNetwork = false
	o.KeepCaps, o.DropCaps = []int{unix.CAP_SYS_TIME, unix.CAP_NET_ADMIN}, []int{22}
	p, _ = NewPlan(o)
	want := []int{22}
	for _, c := range DroppedCapabilities(false) {
		if c != unix.CAP_SYS_TIME && c != unix.CAP_NET_ADMIN {
			want = append(want, c)
		}
	}
	if !reflect.DeepEqual(p.DropCaps, sortedInts(want)) {
		t.Errorf("with --capability/--drop-capability DropCaps = %v, want %v", p.DropCaps, sortedInts(want))
	}
}

func sortedInts(in []int) []int {
	out := append([]int(nil), in...)
	sort.Ints(out)
	return out
}

func TestNewPlanVolatileDefaultsToNo(t *testing.T) {
	o := goodOptions()
	empty, err := NewPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	o.Volatile = systemd.VolatileNo
	no, err := NewPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(empty, no) {
		t.Errorf("volatile \"\" and \"no\" plan differently:\n%+v\n%+v", empty, no)
	}
}

// The plan travels to the stage as JSON: it must arrive unchanged.
func TestPlanJSONRoundTrip(t *testing.T) {
	for _, v := range []systemd.Volatile{systemd.VolatileNo, systemd.VolatileYes, systemd.VolatileState} {
		o := goodOptions()
		o.Volatile = v
		o.ListenFDs = 3
		o.OSRelease = []byte("ID=debian\n")
		o.Credentials = []File{{Name: "a", Data: []byte{0, 1, 2, 0xff}}}
		o.Binds = []BindMount{{Source: "/srv", Target: "/srv", ReadOnly: true, Recursive: true}}
		p, err := NewPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q Plan
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("volatile=%s: plan changed through JSON:\n%+v\n%+v", v, p, q)
		}
	}
}

func mountTargets(ms []Mount) []string {
	ts := make([]string, len(ms))
	for i, m := range ms {
		ts[i] = m.Target
	}
	return ts
}

func mountIndex(ms []Mount, target string) int {
	for i, m := range ms {
		if m.Target == target {
			return i
		}
	}
	return -1
}

func findMount(t *testing.T, ms []Mount, target string) Mount {
	t.Helper()
	i := mountIndex(ms, target)
	if i < 0 {
		t.Fatalf("no mount on %s in %q", target, mountTargets(ms))
	}
	return ms[i]
}

// covers reports whether a mount on outer hides whatever is mounted on
// inner (outer is inner or one of its parents).
func covers(outer, inner string) bool {
	return outer == "/" || outer == inner || strings.HasPrefix(inner, outer+"/")
}

func planMounts(t *testing.T, change func(o *Options)) []Mount {
	t.Helper()
	o := goodOptions()
	if change != nil {
		change(&o)
	}
	p, err := NewPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Mounts, Mounts(o)) {
		t.Errorf("Plan.Mounts differs from Mounts(o)")
	}
	return p.Mounts
}

func TestMountOrder(t *testing.T) {
	for _, v := range []systemd.Volatile{systemd.VolatileNo, systemd.VolatileYes, systemd.VolatileState} {
		t.Run("volatile="+string(v), func(t *testing.T) {
			ms := planMounts(t, func(o *Options) {
				o.Volatile = v
				o.Binds = []BindMount{
					{Source: "/srv/a", Target: "/srv/a"},
					{Source: "/srv/b", Target: "/opt/b", ReadOnly: true, Recursive: true},
				}
			})
			if ms[0].Target != "/" {
				t.Fatalf("first mount is %s, want the root: %q", ms[0].Target, mountTargets(ms))
			}
			for _, pair := range [][2]string{
				{"/proc", "/proc/sys"},
				{"/proc", "/proc/sysrq-trigger"},
				{"/proc", "/proc/kcore"},
				{"/sys", "/sys/fs/cgroup"},
				{"/dev", "/dev/pts"},
				{"/dev", "/dev/shm"},
				{"/dev", "/dev/mqueue"},
				{"/run", RunHostDir},
				{RunHostDir, CredentialsDir},
			} {
				before, after := mountIndex(ms, pair[0]), mountIndex(ms, pair[1])
				if before < 0 || after < 0 || before >= after {
					t.Errorf("%s (at %d) must be mounted before %s (at %d)", pair[0], before, pair[1], after)
				}
			}
			// User binds come last but for /run/host and its
			// credentials (so that a bind on /run cannot hide them), in
			// the order given.
			n := len(ms)
			// ... and /sys/fs/cgroup, the very last (the stage may wait
			// for its cgroups there).
			if ms[n-5].Target != "/srv/a" || ms[n-4].Target != "/opt/b" ||
				ms[n-3].Target != RunHostDir || ms[n-2].Target != CredentialsDir || ms[n-1].Target != "/sys/fs/cgroup" {
				t.Errorf("user binds are not last before /run/host, in order: %q", mountTargets(ms))
			}
			// No default mount hides an earlier one.
			defaults := append(append([]Mount(nil), ms[:n-5]...), ms[n-3:]...)
			for i := 0; i < len(defaults); i++ {
				for j := i + 1; j < len(defaults); j++ {
					if covers(defaults[j].Target, defaults[i].Target) {
						t.Errorf("mount on %s hides earlier mount on %s", defaults[j].Target, defaults[i].Target)
					}
				}
			}
			// Every target is absolute and clean, and appears once.
			seen := map[string]bool{}
			for _, m := range ms {
				if !strings.HasPrefix(m.Target, "/") || (m.Target != "/" && strings.HasSuffix(m.Target, "/")) {
					t.Errorf("target %q is not a clean absolute path", m.Target)
				}
				if seen[m.Target] {
					t.Errorf("two mounts on %s", m.Target)
				}
				seen[m.Target] = true
			}
		})
	}
}

func TestMountsUserBinds(t *testing.T) {
	binds := []BindMount{
		{Source: "/srv/site", Target: "/srv/site", ReadOnly: true, Recursive: true},
		{Source: "/home/u", Target: "/home/u"},
		{Source: "/var/data", Target: "/data", Recursive: true},
	}
	ms := planMounts(t, func(o *Options) { o.Binds = binds })
	// The binds come right before /run/host and its credentials.
	got := ms[len(ms)-3-len(binds) : len(ms)-3]
	for i, b := range binds {
		want := Mount{Target: b.Target, Source: b.Source, SourceIn: SourceHost, ReadOnly: b.ReadOnly, Recursive: b.Recursive, Follow: true}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("bind %d = %+v, want %+v", i, got[i], want)
		}
		if !got[i].IsBind() {
			t.Errorf("bind %d is not a bind mount: %+v", i, got[i])
		}
	}
}

func TestMountsTmpfsLeftOutUnderUserBind(t *testing.T) {
	tests := []struct {
		bind         string
		wantRunTmpfs bool
		wantTmpTmpfs bool
	}{
		{"/srv", true, true},
		{"/run", false, true},
		{"/run/", false, true},
		{"/tmp", true, false},
		{"/tmp/", true, false},
		{"/run/user", true, true},
		{"/tmp/x", true, true},
		{"/runner", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.bind, func(t *testing.T) {
			ms := planMounts(t, func(o *Options) { o.Binds = []BindMount{{Source: "/host" + tt.bind, Target: tt.bind}} })
			for _, c := range []struct {
				target string
				want   bool
			}{{"/run", tt.wantRunTmpfs}, {"/tmp", tt.wantTmpTmpfs}} {
				hasTmpfs := false
				for _, m := range ms {
					if m.Target == c.target && m.FSType == "tmpfs" {
						hasTmpfs = true
					}
				}
				if hasTmpfs != c.want {
					t.Errorf("bind on %s: tmpfs on %s = %v, want %v", tt.bind, c.target, hasTmpfs, c.want)
				}
			}
			// The bind is the last mount before /run/host and its credentials.
			last := ms[len(ms)-4]
			if last.Target != tt.bind || last.Source != "/host"+tt.bind {
				t.Errorf("user bind is not the last mount before /run/host: %+v", last)
			}
		})
	}
}

// A user bind on /run (which the plan supports by leaving out its /run
// tmpfs) must not hide /run/host: the stage fills /run/host after all
// mounts, so with the bind last it writes the container's os-release,
// inaccessible nodes, credentials and notify socket into the host
// directory the user bound (or fails if it has no host/ subdirectory), and
// NOTIFY_SOCKET=/run/host/notify no longer points into the container's
// /run/host. Either NewPlan refuses such a bind, or /run/host and its
// credentials must be mounted after (on top of) it.
func TestUserBindDoesNotHideRunHost(t *testing.T) {
	for _, target := range []string{"/run", "/run/host"} {
		t.Run(target, func(t *testing.T) {
			o := goodOptions()
			o.Binds = []BindMount{{Source: "/srv/run", Target: target}}
			p, err := NewPlan(o)
			if err != nil {
				return // refused: fine
			}
			for _, inner := range []string{RunHostDir, CredentialsDir} {
				i := mountIndex(p.Mounts, inner)
				if i < 0 {
					t.Errorf("no mount on %s", inner)
					continue
				}
				for j := i + 1; j < len(p.Mounts); j++ {
					if covers(p.Mounts[j].Target, inner) {
						t.Errorf("bind on %s (mount %d) hides %s (mount %d); mounts: %q",
							p.Mounts[j].Target, j, inner, i, mountTargets(p.Mounts))
					}
				}
			}
		})
	}
}

func TestMountsVolatileShapes(t *testing.T) {
	t.Run("no", func(t *testing.T) {
		ms := planMounts(t, func(o *Options) { o.Volatile = systemd.VolatileNo })
		want := Mount{Target: "/", Source: "/", SourceIn: SourceImage, Recursive: true}
		if !reflect.DeepEqual(ms[0], want) {
			t.Errorf("root = %+v, want %+v (the image, writable)", ms[0], want)
		}
		for _, tgt := range []string{"/usr", "/var"} {
			if i := mountIndex(ms, tgt); i >= 0 {
				t.Errorf("unexpected mount on %s: %+v", tgt, ms[i])
			}
		}
	})
	t.Run("yes", func(t *testing.T) {
		ms := planMounts(t, func(o *Options) { o.Volatile = systemd.VolatileYes })
		root := ms[0]
		if root.Target != "/" || root.FSType != "tmpfs" || root.SourceIn == SourceImage || root.ReadOnly {
			t.Errorf("root = %+v, want a writable tmpfs", root)
		}
		usr := ms[1]
		want := Mount{Target: "/usr", Source: "/usr", SourceIn: SourceImage, Recursive: true, ReadOnly: true}
		if !reflect.DeepEqual(usr, want) {
			t.Errorf("second mount = %+v, want %+v (the image's /usr, read-only)", usr, want)
		}
		// Nothing else comes from the image.
		for _, m := range ms[2:] {
			if m.SourceIn == SourceImage {
				t.Errorf("unexpected mount from the image: %+v", m)
			}
		}
		if i := mountIndex(ms, "/var"); i >= 0 {
			t.Errorf("unexpected mount on /var: %+v", ms[i])
		}
	})
	t.Run("state", func(t *testing.T) {
		ms := planMounts(t, func(o *Options) { o.Volatile = systemd.VolatileState })
		want := Mount{Target: "/", Source: "/", SourceIn: SourceImage, Recursive: true, ReadOnly: true}
		if !reflect.DeepEqual(ms[0], want) {
			t.Errorf("root = %+v, want %+v (the image, read-only)", ms[0], want)
		}
		v := findMount(t, ms, "/var")
		if v.FSType != "tmpfs" || v.ReadOnly || v.Flags&unix.MS_RDONLY != 0 {
			t.Errorf("/var = %+v, want a writable tmpfs", v)
		}
		if i := mountIndex(ms, "/usr"); i >= 0 {
			t.Errorf("unexpected mount on /usr: %+v", ms[i])
		}
	})
}

// TestMountsDetachTheImagesOwn: the file systems sockspawn mounts in
// place of the image's directories replace whatever the image brings
// mounted there (with -D /, the host's own /proc, /sys, /dev and /run);
// the image itself, its /usr and the user's binds are never detached.
func TestMountsDetachTheImagesOwn(t *testing.T) {
	for _, mode := range []systemd.Volatile{systemd.VolatileNo, systemd.VolatileYes, systemd.VolatileState} {
		for _, userns := range []bool{false, true} {
			ms := planMounts(t, func(o *Options) {
				o.Volatile = mode
				o.Binds = []BindMount{{Source: "/srv", Target: "/srv"}}
				if userns {
					o.UserNS = &IDMap{Base: 524288, Size: 65536}
				}
			})
			want := map[string]bool{"/proc": true, "/sys": true, "/dev": true, "/run": true, "/tmp": true}
			if mode == systemd.VolatileState {
				want["/var"] = true
			}
			for _, m := range ms {
				if m.Detach != want[m.Target] {
					t.Errorf("volatile=%s userns=%v: %s has Detach=%v, want %v", mode, userns, m.Target, m.Detach, want[m.Target])
				}
				delete(want, m.Target)
			}
			for tgt := range want {
				t.Errorf("volatile=%s userns=%v: no mount on %s", mode, userns, tgt)
			}
		}
	}
}

// readOnly reports whether a mount ends up read-only in the container.
func readOnly(m Mount) bool { return m.ReadOnly || m.Seal || m.Flags&unix.MS_RDONLY != 0 }

func TestMountsReadOnlyWhereTheInterfaceDemands(t *testing.T) {
	tests := []struct {
		target string
		check  func(m Mount) bool
		want   string
	}{
		{"/proc/sys", func(m Mount) bool {
			return m.IsBind() && m.SourceIn == SourceRoot && m.Source == "/proc/sys" && m.ReadOnly
		}, "a read-only bind of the container's own /proc/sys"},
		{"/proc/sysrq-trigger", func(m Mount) bool { return m.ReadOnly && m.File }, "a read-only file bind"},
		{"/sys", func(m Mount) bool { return m.FSType == "sysfs" && m.Flags&unix.MS_RDONLY != 0 }, "sysfs with MS_RDONLY"},
		{RunHostDir, func(m Mount) bool { return m.FSType == "tmpfs" && m.Seal }, "a tmpfs sealed once filled"},
		{CredentialsDir, func(m Mount) bool { return m.FSType == "ramfs" && m.Seal }, "a ramfs sealed once filled"},
		{"/proc", func(m Mount) bool { return m.FSType == "proc" && !readOnly(m) }, "writable procfs"},
		{"/sys/fs/cgroup", func(m Mount) bool { return m.FSType == "cgroup2" && !readOnly(m) }, "writable cgroup2"},
		{"/dev", func(m Mount) bool { return m.FSType == "tmpfs" && !readOnly(m) }, "writable tmpfs"},
		{"/dev/pts", func(m Mount) bool {
			return m.FSType == "devpts" && strings.Contains(m.Data, "newinstance") && strings.Contains(m.Data, "ptmxmode=0666")
		}, "a new devpts instance"},
		{"/run", func(m Mount) bool { return m.FSType == "tmpfs" && !readOnly(m) }, "writable tmpfs"},
		{"/tmp", func(m Mount) bool { return m.FSType == "tmpfs" && !readOnly(m) && strings.Contains(m.Data, "1777") }, "writable sticky tmpfs"},
	}
	for _, v := range []systemd.Volatile{systemd.VolatileNo, systemd.VolatileYes, systemd.VolatileState} {
		ms := planMounts(t, func(o *Options) { o.Volatile = v })
		for _, tt := range tests {
			if m := findMount(t, ms, tt.target); !tt.check(m) {
				t.Errorf("volatile=%s: %s = %+v, want %s", v, tt.target, m, tt.want)
			}
		}
		for _, p := range procMasks {
			m := findMount(t, ms, p)
			if m.Source != "/dev/null" || !m.ReadOnly || !m.Optional || !m.File {
				t.Errorf("volatile=%s: mask %s = %+v, want optional read-only /dev/null", v, p, m)
			}
		}
	}
}

func TestMountsAPIFlags(t *testing.T) {
	ms := planMounts(t, nil)
	for _, m := range ms {
		if m.IsBind() || m.Target == "/" {
			continue
		}
		if m.Flags&unix.MS_NOSUID == 0 {
			t.Errorf("%s (%s) is mounted without MS_NOSUID", m.Target, m.FSType)
		}
		if m.Target != "/dev" && m.Flags&unix.MS_NODEV == 0 && m.FSType != "devpts" {
			t.Errorf("%s (%s) is mounted without MS_NODEV", m.Target, m.FSType)
		}
	}
	for _, tgt := range []string{"/proc", "/sys", "/sys/fs/cgroup", "/dev/mqueue"} {
		if m := findMount(t, ms, tgt); m.Flags&unix.MS_NOEXEC == 0 {
			t.Errorf("%s is mounted without MS_NOEXEC", tgt)
		}
	}
}

// With a user namespace the image comes idmapped from the supervisor,
// /sys is the host's bound read-only (sysfs needs the network namespace's
// owner), and user binds are opened by the supervisor.
func TestMountsUserNamespace(t *testing.T) {
	for _, vol := range []systemd.Volatile{systemd.VolatileNo, systemd.VolatileYes, systemd.VolatileState} {
		ms := planMounts(t, func(o *Options) {
			o.Volatile = vol
			o.UserNS = &IDMap{Base: 0x80000, Size: 65536}
			o.Binds = []BindMount{{Source: "/srv", Target: "/srv"}}
		})
		image := 0
		for _, m := range ms {
			switch {
			case m.SourceIn == SourceImage:
				t.Errorf("volatile=%s: %s comes straight from the image, not idmapped", vol, m.Target)
			case m.SourceIn == SourceIDMap:
				image++
			case m.Target == "/sys":
				if m.FSType != "" || m.Source != "/sys" || !m.ReadOnly || !m.Recursive {
					t.Errorf("volatile=%s: /sys = %+v, want the host's /sys bound read-only", vol, m)
				}
			case m.Target == "/srv":
				if m.SourceIn != SourceTree {
					t.Errorf("volatile=%s: user bind from %q, want %q", vol, m.SourceIn, SourceTree)
				}
			}
		}
		if image != 1 {
			t.Errorf("volatile=%s: %d idmapped mounts of the image, want 1", vol, image)
		}
	}
}

// The tunnel of `machinectl bind` is bound read-only inside /run/host,
// after its tmpfs, and only without a user namespace; it alone stays a
// slave when the container's mounts are made shared.
func TestIncomingMount(t *testing.T) {
	o := Options{Image: "/img", Root: "/run/r", Argv: []string{"/bin/sh"}, Console: ConsolePipe, Incoming: "/run/sockspawn/machines/m/propagate"}
	find := func(ms []Mount) (runHost, incoming int) {
		runHost, incoming = -1, -1
		for i, m := range ms {
			switch m.Target {
			case RunHostDir:
				runHost = i
			case IncomingDir:
				incoming = i
				if m.Source != o.Incoming || m.SourceIn != SourceHost || !m.ReadOnly || m.Recursive || !m.Slave {
					t.Errorf("incoming mount %+v; want a read-only, non-recursive bind of %s that stays a slave", m, o.Incoming)
				}
			default:
				if m.Slave {
					t.Errorf("mount %+v stays a slave: only /run/host/incoming should", m)
				}
			}
		}
		return
	}
	if rh, in := find(Mounts(o)); in < 0 || in < rh {
		t.Errorf("/run/host at %d, /run/host/incoming at %d: want it there, after /run/host", rh, in)
	}
	o.UserNS = &IDMap{Base: 100000, Size: 65536}
	if _, in := find(Mounts(o)); in >= 0 {
		t.Error("with a user namespace, /run/host/incoming is bound in all the same")
	}
	o.UserNS, o.Incoming = nil, ""
	if _, in := find(Mounts(o)); in >= 0 {
		t.Error("without a tunnel, /run/host/incoming is bound in all the same")
	}
}
