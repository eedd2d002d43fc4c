package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{[]float64{3}, 3, true},
		{[]float64{5, 1, 3}, 3, true},
		{[]float64{4, 1, 3, 2}, 2.5, true},
	} {
		got, ok := median(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseStatus(t *testing.T) {
	m := parseStatus("Name:\tsockspawn\nVmRSS:\t    8120 kB\nvoluntary_ctxt_switches:\t12\n")
	if n, err := statusNumber(m, "VmRSS"); err != nil || n != 8120 {
		t.Errorf("VmRSS = %d, %v; want 8120", n, err)
	}
	if n, err := statusNumber(m, "voluntary_ctxt_switches"); err != nil || n != 12 {
		t.Errorf("voluntary_ctxt_switches = %d, %v; want 12", n, err)
	}
	if _, err := statusNumber(m, "VmHWM"); err == nil {
		t.Error("missing field: no error")
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-rounds", "3", "-tools", "sockspawn"})
	if err != nil || o.rounds != 3 || len(o.tools) != 1 || o.tools[0] != "sockspawn" {
		t.Errorf("got %+v, %v", o, err)
	}
	if !slices.Equal(o.kinds, []kind{trivial, boot, activated, idleKind}) {
		t.Errorf("default measurements %v; want all four", o.kinds)
	}
	if o, err := parseOptions([]string{"-measure", "9"}); err != nil || !slices.Equal(o.kinds, []kind{idleKind}) {
		t.Errorf("-measure 9: %v, %v; want idle", o.kinds, err)
	}
	o, err = parseOptions([]string{"-measure", "activated, 1"})
	if err != nil || !slices.Equal(o.kinds, []kind{trivial, activated}) {
		t.Errorf("-measure activated,1: %v, %v; want trivial then activated", o.kinds, err)
	}
	o, err = parseOptions([]string{"-tools", "sockspawn,sockspawn-b", "-sockspawn-b", "/tmp/other", "-env-b", "A=1, B=x=y"})
	if err != nil || !slices.Equal(o.tools, []string{"sockspawn", "sockspawn-b"}) || o.sockspawnB != "/tmp/other" || !slices.Equal(o.envB, []string{"A=1", "B=x=y"}) {
		t.Errorf("A/B flags: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-rounds", "0"}, {"-tools", "docker"}, {"-tools", ","}, {"extra"}, {"-measure", "10"}, {"-measure", ""},
		{"-tools", "sockspawn-b"}, {"-tools", "sockspawn-b", "-env-b", "NOVALUE"}, {"-tools", "sockspawn-b", "-env-b", "=1"}} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("parseOptions(%q): no error", bad)
		}
	}
}

func TestOrderAlternates(t *testing.T) {
	b := &bench{tools: []tool{{name: "a"}, {name: "b"}}}
	if got := b.order(0); got[0].name != "a" || got[1].name != "b" {
		t.Errorf("round 0: %v", got)
	}
	if got := b.order(1); got[0].name != "b" || got[1].name != "a" {
		t.Errorf("round 1: %v", got)
	}
}

func TestNotifyRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	r, err := listenNotify(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := sendNotify(path, "STATUS=booting\nX_NSPAWN_LEADER_PID=42\nREADY=1\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-r.C:
		if !n.has("READY=1") || n.value("STATUS") != "booting" || n.value("X_NSPAWN_LEADER_PID") != "42" {
			t.Errorf("got %q", n.lines)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram")
	}
}

func TestNotifyClosesPassedFDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	r, err := listenNotify(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sock, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(sock)
	before := openFDs(t)
	err = syscall.Sendmsg(sock, []byte("FDSTORE=1"), syscall.UnixRights(sock), &syscall.SockaddrUnix{Name: path}, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-r.C:
		if !n.has("FDSTORE=1") {
			t.Errorf("got %q", n.lines)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram")
	}
	if after := openFDs(t); after != before {
		t.Errorf("open fds: %d before, %d after receiving one", before, after)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}

func TestCgroupDirs(t *testing.T) {
	mountinfo := `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
99 31 0:38 /sub /mnt/elsewhere rw,relatime - cgroup2 cgroup2 rw
`
	cgroup := "9:name=systemd:/a\n4:memory:/process_api/x\n0::/b/c\n"
	got := cgroupDirs(mountinfo, cgroup)
	want := []string{"/sys/fs/cgroup/systemd/a", "/sys/fs/cgroup/unified/b/c"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("cgroupDirs = %q, want %q", got, want)
	}
	pure := "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
	if got := cgroupDirs(pure, "0::/\n"); len(got) != 1 || got[0] != "/sys/fs/cgroup" {
		t.Errorf("cgroupDirs on a cgroup2 host = %q", got)
	}
	if got := cgroupDirs(pure, "0::/../x\n"); len(got) != 0 {
		t.Errorf("cgroupDirs outside the namespace = %q, want none", got)
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/a\040b\\`); got != `/a b\\` {
		t.Errorf("got %q", got)
	}
}

// TestCgroupWatch: only what the run created under the watched names is
// removed, children first; what was there before stays, and so does
// everything else.
func TestCgroupWatch(t *testing.T) {
	own := t.TempDir()
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(own, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mk("payload/init.scope")
	mk("other")
	w := watchCgroupsIn([]string{own}, "bench")
	mk("payload/system.slice/x.service")
	mk("supervisor")
	mk("sockspawn-bench")
	mk("other/new")
	removed, left := w.cleanup()
	if len(removed) != 4 || len(left) != 0 {
		t.Errorf("removed %q, left %q; want 4 removed", removed, left)
	}
	for _, p := range []string{"payload/init.scope", "other/new"} {
		if _, err := os.Stat(filepath.Join(own, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{"payload/system.slice", "supervisor", "sockspawn-bench"} {
		if _, err := os.Stat(filepath.Join(own, p)); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	if b := w.preexisting(); len(b) != 2 {
		t.Errorf("preexisting = %q, want payload and payload/init.scope", b)
	}
}

func TestWriteSocketUnits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "units")
	if err := writeSocketUnits(dir, "127.0.0.1:18123"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sockets.target.wants", "echo.socket"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ListenStream=127.0.0.1:18123\n", "Accept=yes\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("echo.socket lacks %q:\n%s", want, b)
		}
	}
	b, err = os.ReadFile(filepath.Join(dir, "echo@.service"))
	if err != nil || !strings.Contains(string(b), "ExecStart=/bin/sh -c 'echo hello'\n") || !strings.Contains(string(b), "StandardOutput=socket\n") {
		t.Errorf("echo@.service: %v\n%s", err, b)
	}
}

func TestFirstByte(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	answers := []string{"hello\n", "nope\n"}
	go func() {
		for _, a := range answers {
			c, err := l.Accept()
			if err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
			c.Write([]byte(a))
			c.Close()
		}
	}()
	d, err := firstByte(l.Addr().String(), 5*time.Second)
	if err != nil || d < 20*time.Millisecond {
		t.Errorf("firstByte = %v, %v; want at least 20ms, no error", d, err)
	}
	if _, err := firstByte(l.Addr().String(), 5*time.Second); err == nil {
		t.Error("a wrong answer: no error")
	}
}

func TestActivationArgv(t *testing.T) {
	a := &activation{path: "/usr/bin/systemd-socket-activate", addr: "127.0.0.1:1"}
	tl := nspawnTool("/usr/bin/systemd-nspawn")
	got := tl.commandLine(activated, "/u", a.argv("/n")...)
	want := "/usr/bin/systemd-socket-activate -l 127.0.0.1:1 -E NOTIFY_SOCKET=/n systemd-nspawn -q -D / --volatile=yes -M bench" +
		" --register=no --keep-unit --link-journal=no --notify-ready=yes -b --console=passive --bind-ro=/u:/etc/systemd/system -- systemd.firstboot=off"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
