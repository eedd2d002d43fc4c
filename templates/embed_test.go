package templates

import (
	"bytes"
	"errors"
	"io/fs"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name string
		want string // a line the template must hold
	}{
		{Service, "ExecStart=@BINDIR@/sockspawn boot %i"},
		{Socket, "ListenStream=/run/sockspawn/%i.sock"},
		{MachineConfig, "[Container]"},
		{ListenDropIn, "@LISTEN_STREAMS@"},
	}
	if len(tests) != len(Names()) {
		t.Fatalf("test covers %d templates, Names() lists %d", len(tests), len(Names()))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Read(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte("\n"+tt.want+"\n")) {
				t.Errorf("%s has no line %q", tt.name, tt.want)
			}
		})
	}
}

func TestReadUnknown(t *testing.T) {
	_, err := Read("nope.service")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read(unknown) = %v, want fs.ErrNotExist", err)
	}
}

func TestUnitsAreTemplates(t *testing.T) {
	all := map[string]bool{}
	for _, n := range Names() {
		all[n] = true
	}
	for _, u := range Units() {
		if !all[u] {
			t.Errorf("Units() lists %q, which Names() does not", u)
		}
	}
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(all) {
		t.Errorf("FS holds %d files, Names() lists %d", len(entries), len(all))
	}
}
