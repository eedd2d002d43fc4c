package devices

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeV1 makes a directory with empty devices.allow and devices.deny files.
func fakeV1(t *testing.T) string {
	dir := t.TempDir()
	for _, name := range []string{"devices.allow", "devices.deny"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAttachV1Writes(t *testing.T) {
	dir := fakeV1(t)
	rules := []Rule{{'c', 1, 3, "rwm"}, {'c', 136, Wildcard, "rw"}, {'a', 250, Wildcard, "m"}}
	if err := AttachV1(dir, rules); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "devices.deny")); got != "a\n" {
		t.Errorf("devices.deny = %q, want %q", got, "a\n")
	}
	want := "c 1:3 rwm\nc 136:* rw\nc 250:* m\nb 250:* m\n"
	if got := readFile(t, filepath.Join(dir, "devices.allow")); got != want {
		t.Errorf("devices.allow = %q, want %q", got, want)
	}
}

func TestAttachV1Errors(t *testing.T) {
	dir := fakeV1(t)
	err := AttachV1(dir, []Rule{{'c', 1, 3, "rwm"}, {'c', 1, 3, "rwx"}})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("AttachV1 with a bad rule = %v, want an error naming %s", err, dir)
	}
	if got := readFile(t, filepath.Join(dir, "devices.deny")) + readFile(t, filepath.Join(dir, "devices.allow")); got != "" {
		t.Errorf("AttachV1 with a bad rule wrote %q", got)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if err := AttachV1(missing, DefaultAllow()); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("AttachV1(missing dir) = %v, want an error naming it", err)
	}
}
