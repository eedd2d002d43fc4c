package activation

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLoadCredential(t *testing.T) {
	dir := t.TempDir()
	credDir := filepath.Join(dir, "creds")
	write := func(path string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "key"), []byte("KEY"))
	write(filepath.Join(credDir, "pw"), []byte("PW"))
	write(filepath.Join(dir, "max"), bytes.Repeat([]byte("m"), MaxCredentialSize))
	write(filepath.Join(dir, "big"), bytes.Repeat([]byte("b"), MaxCredentialSize+1))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, id, path, credDir string
		want                    []byte
		wantErr                 string
	}{
		{name: "absolute", id: "k", path: filepath.Join(dir, "key"), want: []byte("KEY")},
		{name: "inherited", id: "p", path: "pw", credDir: credDir, want: []byte("PW")},
		{name: "max size", id: "m", path: filepath.Join(dir, "max"), want: bytes.Repeat([]byte("m"), MaxCredentialSize)},
		{name: "too big", id: "b", path: filepath.Join(dir, "big"), wantErr: filepath.Join(dir, "big") + " is larger than"},
		{name: "fifo", id: "f", path: filepath.Join(dir, "fifo"), wantErr: "not a regular file"},
		{name: "directory", id: "d", path: credDir, wantErr: "not a regular file"},
		{name: "missing", id: "m", path: filepath.Join(dir, "missing"), wantErr: filepath.Join(dir, "missing")},
		{name: "relative without credDir", id: "p", path: "pw", wantErr: "$CREDENTIALS_DIRECTORY is not set"},
		{name: "relative with slash", id: "p", path: "../key", credDir: credDir, wantErr: "neither absolute"},
		{name: "bad id", id: "a/b", path: filepath.Join(dir, "key"), wantErr: "invalid credential name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadCredential(tt.id, tt.path, tt.credDir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tt.id || !bytes.Equal(got.Data, tt.want) {
				t.Errorf("got %q with %d bytes", got.ID, len(got.Data))
			}
		})
	}
}

func TestInheritedCredentials(t *testing.T) {
	if got, err := InheritedCredentials(""); got != nil || err != nil {
		t.Errorf("unset: %v, %v", got, err)
	}
	empty := t.TempDir()
	if got, err := InheritedCredentials(empty); got != nil || err != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
	if _, err := InheritedCredentials(filepath.Join(empty, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing directory: err = %v", err)
	}

	dir := t.TempDir()
	for name, data := range map[string]string{"b": "2", "a": "1"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	got, err := InheritedCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Credential{{"a", []byte("1")}, {"b", []byte("2")}}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i].ID != want[i].ID || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("credential %d: got %q %q, want %q %q", i, got[i].ID, got[i].Data, want[i].ID, want[i].Data)
		}
	}
}
