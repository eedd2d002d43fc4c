package payload

import (
	"os"
	"path/filepath"
	"testing"
)

func TestImageOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	img := t.TempDir()
	for _, d := range []string{"etc", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(img, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(img, "etc"), 1879048192, 7); err != nil {
		t.Fatal(err)
	}
	// A symlink out of the image is neither followed nor reported.
	if err := os.Symlink("/etc", filepath.Join(img, "var")); err != nil {
		t.Fatal(err)
	}
	got, err := ImageOwners(img, []string{"/etc", "/var", "/var/lib", "/usr/bin", "/home"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Owned{{"/etc", 1879048192, 7}, {"/usr/bin", 0, 0}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ImageOwners = %v, want %v", got, want)
	}
}
