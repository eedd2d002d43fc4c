package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCmdInstallUnits(t *testing.T) {
	dest := t.TempDir()
	if code := cmdInstallUnits([]string{dest, "/usr/bin", "/usr/lib/systemd/system"}); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	b, err := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/system/container@.service"))
	if err != nil || !strings.Contains(string(b), "\nExecStart=/usr/bin/sockspawn boot %i\n") {
		t.Errorf("container@.service: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(dest, "usr/lib/systemd/system/container@.socket")); err != nil {
		t.Error(err)
	}
	for _, bad := range [][]string{{dest, "/usr/bin"}, {dest, "bin", "/usr/lib/systemd/system"}} {
		if code := cmdInstallUnits(bad); code != 1 {
			t.Errorf("__install-units %q: exit status %d, want 1", bad, code)
		}
	}
}
