package payload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestCheckCommand(t *testing.T) {
	img := t.TempDir()
	for _, d := range []string{"usr/bin", "etc", "opt"} {
		if err := os.MkdirAll(filepath.Join(img, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(img, p), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/bin/tool", 0o755)
	write("usr/bin/data", 0o644)
	write("opt/app", 0o755)
	if err := os.Symlink("usr/bin", filepath.Join(img, "bin")); err != nil {
		t.Fatal(err)
	}
	// A link out of the image stays in it: /etc/escape is /usr/bin/tool
	// of the image, never the host's.
	if err := os.Symlink("/../../../../usr/bin/tool", filepath.Join(img, "etc/escape")); err != nil {
		t.Fatal(err)
	}
	// /lib leads to /usr/lib, which only a bind provides.
	if err := os.Symlink("usr/lib", filepath.Join(img, "lib")); err != nil {
		t.Fatal(err)
	}
	// A link to what a bind provides, dangling in the image itself.
	if err := os.Symlink("/opt/bound/tool", filepath.Join(img, "usr/bin/bound")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		volatile systemd.Volatile
		argv0    string
		env      []string
		binds    []BindMount
		want     []string // substrings of the error; nil for none
	}{
		{name: "absolute", argv0: "/usr/bin/tool"},
		{name: "through a link in the image", argv0: "/bin/tool"},
		{name: "link to / stays in the image", argv0: "/etc/escape"},
		{name: "on $PATH", argv0: "tool"},
		{name: "missing", argv0: "/bin/true", want: []string{"/bin/true", "not found in the image " + img}},
		{name: "missing on $PATH", argv0: "nosuch", want: []string{"nosuch", "$PATH", "in the image " + img}},
		{name: "own $PATH", argv0: "app", env: []string{"PATH=/opt"}},
		{name: "own $PATH without it", argv0: "tool", env: []string{"PATH=/opt"}, want: []string{"tool", "/opt"}},
		{name: "not executable", argv0: "/usr/bin/data", want: []string{"/usr/bin/data", "not an executable file"}},
		{name: "a directory", argv0: "/usr/bin", want: []string{"not an executable file"}},
		{name: "from a bind", argv0: "/srv/bin/x", binds: []BindMount{{Source: "/srv", Target: "/srv"}}},
		{name: "in a tmpfs sockspawn mounts", argv0: "/tmp/x"},
		{name: "a link to a bind", argv0: "/usr/bin/bound", binds: []BindMount{{Source: "/srv", Target: "/opt/bound"}}},
		{name: "relative", argv0: "./x"},
		{name: "through a link into a bind", argv0: "/lib/x/tool", binds: []BindMount{{Source: "/srv", Target: "/usr/lib"}}},
		{name: "through a link, not a bind", argv0: "/lib/x/tool", want: []string{"/lib/x/tool", "not found in the image"}},
		{name: "link into a bind that does not cover it", argv0: "/bin/nosuch", binds: []BindMount{{Source: "/srv", Target: "/usr/lib"}}, want: []string{"/bin/nosuch", "not found"}},
		{name: "volatile yes: /usr", volatile: systemd.VolatileYes, argv0: "/usr/bin/tool"},
		{name: "volatile yes: base link", volatile: systemd.VolatileYes, argv0: "/bin/tool"},
		{name: "volatile yes: outside /usr", volatile: systemd.VolatileYes, argv0: "/opt/app", want: []string{"/opt/app", "--volatile=yes", "/usr"}},
		{name: "volatile state: the image", volatile: systemd.VolatileState, argv0: "/opt/app"},
		{name: "volatile state: /var is fresh", volatile: systemd.VolatileState, argv0: "/var/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Image: img, Volatile: tt.volatile, Argv: []string{tt.argv0}, Env: tt.env, Binds: tt.binds}
			err := CheckCommand(o)
			if tt.want == nil {
				if err != nil {
					t.Errorf("CheckCommand(%s): %v", tt.argv0, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckCommand(%s) accepted it", tt.argv0)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
