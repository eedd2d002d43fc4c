package machine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
	"github.com/sockspawn/sockspawn/units"
)

// TestCheckInput drives each path-valued option with a bad value: the
// error names the option (or the configuration file's key and line) and
// says whether the path is on the host or in the image. It needs no
// privileges: nothing is created.
func TestCheckInput(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	for _, d := range []string{"usr/bin", "etc"} {
		if err := os.MkdirAll(filepath.Join(img, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(img, "usr/bin/tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	rootLink := filepath.Join(dir, "root")
	if err := os.Symlink("/", rootLink); err != nil {
		t.Fatal(err)
	}
	fromFile := units.Sources{"Binds": {"/etc/sockspawn/web.conf:4"}, "Directory": {"/etc/sockspawn/web.conf:2"}}
	tests := []struct {
		name string
		c    units.Config
		src  units.Sources
		want []string // substrings of the error; nil for none
	}{
		{name: "good", c: units.Config{Directory: img, Args: []string{"/usr/bin/tool"}}},
		{name: "good, on $PATH", c: units.Config{Directory: img, Args: []string{"tool"}, Binds: []units.Bind{{Source: dir, Target: "/mnt"}}}},
		{name: "missing image", c: units.Config{Directory: missing}, want: []string{"-D:", missing, "on the host", "no such file"}},
		{name: "image is a file", c: units.Config{Directory: file}, want: []string{"-D:", file, "on the host", "not a directory"}},
		{name: "missing image from a file", c: units.Config{Directory: missing}, src: fromFile, want: []string{"Directory= (/etc/sockspawn/web.conf:2)", "on the host"}},
		{name: "bind source missing", c: units.Config{Directory: img, Args: []string{"tool"}, Binds: []units.Bind{{Source: missing, Target: "/mnt"}}},
			want: []string{"--bind: source " + missing + " on the host: no such file or directory"}},
		{name: "bind-ro source missing", c: units.Config{Directory: img, Args: []string{"tool"}, Binds: []units.Bind{{Source: dir, Target: "/a"}, {Source: missing, Target: "/b", ReadOnly: true}}},
			want: []string{"--bind-ro: source " + missing + " on the host"}},
		{name: "bind source missing, from a file", c: units.Config{Directory: img, Args: []string{"tool"}, Binds: []units.Bind{{Source: missing, Target: "/mnt"}}}, src: fromFile,
			want: []string{"Bind= (/etc/sockspawn/web.conf:4): source " + missing + " on the host"}},
		{name: "bind target in /run/host", c: units.Config{Directory: img, Args: []string{"tool"}, Binds: []units.Bind{{Source: dir, Target: "/run/host/x"}}},
			want: []string{"--bind: target /run/host/x in the container"}},
		{name: "command missing", c: units.Config{Directory: img, Args: []string{"/bin/true"}}, want: []string{"/bin/true: not found in the image " + img}},
		{name: "command from a bind", c: units.Config{Directory: img, Args: []string{"/mnt/x"}, Binds: []units.Bind{{Source: dir, Target: "/mnt"}}}},
		{name: "boot without init", c: units.Config{Directory: img, Boot: true}, want: []string{img, "no init"}},
		{name: "host root by another name", c: units.Config{Directory: rootLink, Args: []string{"/bin/true"}}, want: []string{"-D: image directory " + rootLink, "own root", "--volatile=state"}},
		{name: "host root by another name, volatile", c: units.Config{Directory: rootLink, Volatile: systemd.VolatileState, Args: []string{"/bin/true"}}},
		{name: "host root read-write from a file", c: units.Config{Directory: "/", Machine: "web", Args: []string{"/bin/true"}}, src: fromFile,
			want: []string{"Directory=/ (/etc/sockspawn/web.conf:2)", "Volatile=yes", "Volatile=state"}},
		{name: "host root read-write", c: units.Config{Directory: "/", Machine: "m", Args: []string{"/bin/true"}}, want: []string{"-D /", "--volatile=state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkInput(tt.c, tt.src, false)
			if tt.want == nil {
				if err != nil {
					t.Errorf("checkInput: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkInput accepted %+v", tt.c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestCheckReport: `check` says what it checked, each on a line of its
// own.
func TestCheckReport(t *testing.T) {
	c := units.Config{Directory: "/", Machine: "web", Volatile: systemd.VolatileState, Boot: true,
		Binds: []units.Bind{{Source: "/srv/data", Target: "/data"}}}
	d := decision{Image: "/", Machine: "web", Argv: []string{"/usr/lib/systemd/systemd"}}
	got := checkReport(c, d, "/etc/sockspawn/web.conf", "/etc/systemd/nspawn/web.nspawn")
	for _, want := range []string{
		"machine web can boot:\n",
		"  name           web (a valid machine name and hostname)\n",
		"  configuration  /etc/sockspawn/web.conf (parsed, every key known)\n",
		"  nspawn file    /etc/systemd/nspawn/web.nspawn (parsed, every key known)\n",
		"  image          / (a directory on the host), volatile state: read-only, /var fresh\n",
		"  init           /usr/lib/systemd/systemd (an executable file in the image)\n",
		"  bind source    /srv/data (on the host)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("check's report lacks %q:\n%s", want, got)
		}
	}
	got = checkReport(units.Config{Directory: "/img/db"}, decision{Image: "/img/db", Machine: "db", Argv: []string{"/bin/sh", "-c", "true"}}, "", "")
	if strings.Contains(got, "nspawn file") {
		t.Errorf("check's report names an nspawn file where there is none:\n%s", got)
	}
	for _, want := range []string{"configuration  none (defaults; looked in /etc/sockspawn", "command        /bin/sh -c true (found where the container looks for it)"} {
		if !strings.Contains(got, want) {
			t.Errorf("check's report lacks %q:\n%s", want, got)
		}
	}
}
