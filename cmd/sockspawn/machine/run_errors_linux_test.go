package machine

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/units"
)

// testImage makes an image directory with one command, /usr/bin/tool.
func testImage(t *testing.T) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "img")
	for _, d := range []string{"usr/bin", "etc"} {
		if err := os.MkdirAll(filepath.Join(img, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(img, "usr/bin/tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return img
}

// privateRuntime points RuntimeBase and TunnelBase at a directory of the
// test's own.
func privateRuntime(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	oldRuntime, oldTunnel := RuntimeBase, TunnelBase
	RuntimeBase, TunnelBase = filepath.Join(base, "machines"), filepath.Join(base, "propagate")
	t.Cleanup(func() { RuntimeBase, TunnelBase = oldRuntime, oldTunnel })
	return base
}

// noListenEnv runs the test without sockets passed by a service manager.
func noListenEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// Run refuses bad input before it makes anything: the error names the
// culprit, the status is 1, and neither a runtime directory nor an open
// file is left behind. None of these cases gets as far as the runtime
// directory, so none needs privileges.
func TestRunRefusesBeforeMaking(t *testing.T) {
	noListenEnv(t)
	base := privateRuntime(t)
	img := testImage(t)
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	oldPasswd := passwdFile
	passwdFile = passwd
	t.Cleanup(func() { passwdFile = oldPasswd })
	good := units.Config{Directory: img, Machine: "web", Args: []string{"/usr/bin/tool"}, Quiet: true}
	with := func(f func(c *units.Config)) units.Config {
		c := good
		f(&c)
		return c
	}
	tests := []struct {
		name string
		c    units.Config
		want []string
	}{
		{"missing image", with(func(c *units.Config) { c.Directory = filepath.Join(dir, "none") }), []string{"-D:", "no such file"}},
		{"missing command", with(func(c *units.Config) { c.Args = []string{"/bin/none"} }), []string{"/bin/none: not found in the image"}},
		{"credential file missing", with(func(c *units.Config) {
			c.Credentials = []units.Credential{{ID: "key", Path: filepath.Join(dir, "none")}}
		}), []string{"--load-credential", "key"}},
		{"listen address unusable", with(func(c *units.Config) { c.Listen = []string{filepath.Join(passwd, "s.sock")} }),
			[]string{"--listen=" + filepath.Join(passwd, "s.sock")}},
		{"idle action without sockets", with(func(c *units.Config) { c.IdleAction = units.IdleActionPoweroff }), []string{"idle action poweroff: no sockets to watch"}},
		{"network namespace missing", with(func(c *units.Config) { c.NetworkNamespacePath = filepath.Join(dir, "netns") }), []string{filepath.Join(dir, "netns")}},
		{"bound user missing", with(func(c *units.Config) { c.BindUsers = []string{"alice"} }), []string{"--bind-user=alice: no such user on the host (in " + passwd + ")"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := openFDs(t)
			status, err := Run(tt.c, nil)
			if err == nil || status != 1 {
				t.Fatalf("Run = %d, %v; want 1 and an error", status, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if after := openFDs(t); after != before {
				t.Errorf("%d open files before Run, %d after", before, after)
			}
			if ents, _ := os.ReadDir(filepath.Join(base, "machines")); len(ents) > 0 {
				t.Errorf("Run left %d runtime directories", len(ents))
			}
		})
	}
}

// Each warning is printed once however often it comes, from goroutines
// side by side, and not at all with -q.
func TestOnceWarner(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		var out bytes.Buffer
		warn := onceWarner(&out, quiet)
		done := make(chan struct{})
		for range 4 {
			go func() {
				warn("veth ve-web: busy")
				warn("zone vz-a: in use")
				done <- struct{}{}
			}()
		}
		for range 4 {
			<-done
		}
		want := "sockspawn: veth ve-web: busy\nsockspawn: zone vz-a: in use\n"
		if quiet {
			want = ""
		}
		got := out.String()
		if len(got) != len(want) || strings.Count(got, "busy") != strings.Count(want, "busy") || strings.Count(got, "in use") != strings.Count(want, "in use") {
			t.Errorf("quiet=%v: printed %q, want (in some order) %q", quiet, got, want)
		}
	}
}

// unwind undoes in the reverse order of atEnd, as defers would.
func TestUnwind(t *testing.T) {
	var r run
	var order []int
	for i := range 3 {
		r.atEnd(func() { order = append(order, i) })
	}
	r.unwind()
	if len(order) != 3 || order[0] != 2 || order[1] != 1 || order[2] != 0 {
		t.Errorf("undone in order %v, want [2 1 0]", order)
	}
}
