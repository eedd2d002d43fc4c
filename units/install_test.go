package units

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestNewMachine(t *testing.T) {
	root := t.TempDir()
	conf := filepath.Join(root, "etc/sockspawn/web.conf")
	dropIn := filepath.Join(root, "etc/systemd/system/container@web.socket.d/listen.conf")

	written, err := NewMachine("web", NewOptions{Image: "/srv/web", Listen: []string{"8080", "[::1]:443"}}, root, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{conf, dropIn}; !reflect.DeepEqual(written, want) {
		t.Errorf("written = %q, want %q", written, want)
	}
	c, _, err := ParseConfigFile(conf, mustOpen(t, conf))
	if err != nil {
		t.Fatalf("the written configuration does not parse: %v", err)
	}
	if want := (Config{Directory: "/srv/web", Boot: true}); !reflect.DeepEqual(c, want) {
		t.Errorf("written configuration = %+v, want %+v", c, want)
	}
	text := mustRead(t, dropIn)
	if !strings.Contains(text, "[Socket]\nListenStream=8080\nListenStream=[::1]:443\n") {
		t.Errorf("drop-in:\n%s", text)
	}
	for _, p := range written {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, %v", p, fi.Mode(), err)
		}
	}

	// Again: refused, naming the file, and nothing changes.
	os.WriteFile(conf, []byte("mine"), 0o644)
	_, err = NewMachine("web", NewOptions{}, root, false)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), conf) {
		t.Errorf("second NewMachine: %v, want fs.ErrExist naming %s", err, conf)
	}
	if mustRead(t, conf) != "mine" {
		t.Error("refused NewMachine changed the file")
	}
	// Only the drop-in exists: still refused before anything is written.
	os.Remove(conf)
	_, err = NewMachine("web", NewOptions{Listen: []string{"80"}}, root, false)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), dropIn) {
		t.Errorf("NewMachine over a drop-in: %v", err)
	}
	if _, err := os.Stat(conf); err == nil {
		t.Error("refused NewMachine wrote the configuration")
	}
	// With force: replaced.
	if _, err := NewMachine("web", NewOptions{Listen: []string{"80"}}, root, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mustRead(t, conf), "Directory=/var/lib/machines/web\n") {
		t.Error("forced NewMachine did not write the default directory")
	}
	if !strings.Contains(mustRead(t, dropIn), "\nListenStream=80\n") {
		t.Error("forced NewMachine did not replace the drop-in")
	}
	left, _ := filepath.Glob(filepath.Join(root, "etc/sockspawn/.*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

func TestNewMachineRejects(t *testing.T) {
	tests := []struct {
		name    string
		opts    NewOptions
		wantErr string
	}{
		{"a_b", NewOptions{}, `invalid machine name "a_b"`},
		{"web", NewOptions{Image: "srv"}, `invalid --image "srv": image directory "srv" is not an absolute path`},
		{"web", NewOptions{Listen: []string{"80 81"}}, `invalid --listen "80 81": contains whitespace`},
		{"web", NewOptions{Listen: []string{"80", "80"}}, `invalid --listen "80": given twice`},
	}
	for _, tt := range tests {
		root := t.TempDir()
		written, err := NewMachine(tt.name, tt.opts, root, false)
		checkErr(t, err, tt.wantErr)
		if len(written) > 0 {
			t.Errorf("wrote %q", written)
		}
		if entries, _ := os.ReadDir(root); len(entries) > 0 {
			t.Errorf("created %v", entries)
		}
	}
}

func TestNextSteps(t *testing.T) {
	tests := []struct {
		hasListen bool
		want      []string
		not       []string
	}{
		{false, []string{"systemctl enable --now container@web.socket", "systemctl enable --now container@web.service", "/etc/sockspawn/web.conf"}, []string{"daemon-reload"}},
		{true, []string{"systemctl daemon-reload", "systemctl enable --now container@web.socket"}, nil},
	}
	for _, tt := range tests {
		got := NextSteps("web", tt.hasListen)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("NextSteps(%v) lacks %q:\n%s", tt.hasListen, w, got)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("NextSteps(%v) has %q:\n%s", tt.hasListen, n, got)
			}
		}
	}
}

func TestInstallUnits(t *testing.T) {
	dest := t.TempDir()
	written, err := InstallUnits(dest, "/usr/local/bin", "/usr/local/lib/systemd/system")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dest, "usr/local/lib/systemd/system")
	if want := []string{filepath.Join(dir, "container@.service"), filepath.Join(dir, "container@.socket")}; !reflect.DeepEqual(written, want) {
		t.Errorf("written = %q, want %q", written, want)
	}
	if !strings.Contains(mustRead(t, written[0]), "\nExecStart=/usr/local/bin/sockspawn boot %i\n") {
		t.Errorf("ExecStart not substituted:\n%s", mustRead(t, written[0]))
	}
	// Installing again replaces.
	if _, err := InstallUnits(dest, "/usr/local/bin", "/usr/local/lib/systemd/system"); err != nil {
		t.Errorf("second install: %v", err)
	}
	// A packager's layout: the binary and the units anywhere.
	if written, err := InstallUnits(dest, "/usr/sbin", "/usr/lib/systemd/system"); err != nil {
		t.Error(err)
	} else if text := mustRead(t, filepath.Join(dest, "usr/lib/systemd/system/container@.service")); len(written) != 2 || !strings.Contains(text, "\nExecStart=/usr/sbin/sockspawn boot %i\n") {
		t.Errorf("BINDIR=/usr/sbin: wrote %q, ExecStart not substituted:\n%s", written, text)
	}
	for _, bad := range []struct{ bin, unit, wantErr string }{
		{"usr/bin", "/usr/lib/systemd/system", "binary directory \"usr/bin\" is not an absolute path"},
		{"/usr/bin/", "/usr/lib/systemd/system", "not normalized"},
		{"/usr/bin", "lib/systemd/system", "unit directory \"lib/systemd/system\" is not an absolute path"},
		{"/opt/my apps/bin", "/usr/lib/systemd/system", `character ' ' is not allowed in ExecStart=`},
		{"/opt/100%/bin", "/usr/lib/systemd/system", `character '%'`},
	} {
		dest := t.TempDir()
		_, err := InstallUnits(dest, bad.bin, bad.unit)
		checkErr(t, err, bad.wantErr)
		if left, _ := os.ReadDir(dest); len(left) != 0 {
			t.Errorf("InstallUnits(%q, %q) refused but left %v", bad.bin, bad.unit, left)
		}
	}
}

// TestUnitsVerify renders the units with ExecStart= pointing at a real
// binary, adds a listen.conf drop-in from NewMachine, and has
// systemd-analyze verify a concrete instance of each.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("SOCKSPAWN_E2E") == "1" {
			t.Fatal("systemd-analyze not found and SOCKSPAWN_E2E=1")
		}
		t.Skip("systemd-analyze not installed")
	}
	tmp := t.TempDir()
	prefix := filepath.Join(tmp, "prefix")
	if err := os.MkdirAll(filepath.Join(prefix, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/bin/true", filepath.Join(prefix, "bin/sockspawn")); err != nil {
		t.Fatal(err)
	}
	unitDir := filepath.Join(prefix, "lib/systemd/system")
	if _, err := InstallUnits("", filepath.Join(prefix, "bin"), unitDir); err != nil {
		t.Fatal(err)
	}
	for _, machine := range []string{"web", "my-web.lan"} {
		root := filepath.Join(tmp, "root-"+machine)
		if _, err := NewMachine(machine, NewOptions{Listen: []string{"8080", "/run/" + machine + ".sock"}}, root, false); err != nil {
			t.Fatal(err)
		}
		dropIn := SocketName(machine) + ".d"
		if err := os.Rename(filepath.Join(root, UnitDir, dropIn), filepath.Join(unitDir, dropIn)); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(analyze, "verify", "--man=no",
			filepath.Join(unitDir, ServiceName(machine)), filepath.Join(unitDir, SocketName(machine)))
		out, err := cmd.CombinedOutput()
		var ours []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, tmp) || strings.Contains(line, "container@") {
				ours = append(ours, line)
			}
		}
		if err != nil || len(ours) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", machine, err, out)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
