package payload

import (
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestUnixExportMounts(t *testing.T) {
	const host = "/run/sockspawn/unix-export/web"
	tests := []struct {
		name     string
		change   func(o *Options)
		want     bool   // a mount on /run/host/unix-export
		sourceIn string // where its source is looked up
	}{
		{"none asked", func(o *Options) {}, false, ""},
		{"plain", func(o *Options) { o.UnixExport = host }, true, SourceHost},
		{"user namespace", func(o *Options) { o.UnixExport = host; o.UserNS = &IDMap{Base: 1 << 20, Size: 65536} }, true, SourceTree},
		{"volatile state", func(o *Options) { o.UnixExport = host; o.Volatile = systemd.VolatileState }, true, SourceHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := goodOptions()
			tt.change(&o)
			ms := Mounts(o)
			runHost, export := -1, -1
			for i, m := range ms {
				switch m.Target {
				case RunHostDir:
					runHost = i
				case UnixExportDir:
					if export >= 0 {
						t.Errorf("two mounts on %s", UnixExportDir)
					}
					export = i
				}
			}
			if got := export >= 0; got != tt.want {
				t.Fatalf("mount on %s: %v, want %v", UnixExportDir, got, tt.want)
			}
			if !tt.want {
				return
			}
			m := ms[export]
			if export < runHost {
				t.Errorf("%s is mounted before %s, which would hide it", UnixExportDir, RunHostDir)
			}
			if m.Source != host || m.SourceIn != tt.sourceIn || !m.IsBind() {
				t.Errorf("mount %+v, want a bind of %s looked up in %q", m, host, tt.sourceIn)
			}
			// Writable inside although /run/host is sealed and the host's
			// copy is read-only; never propagating back to the host.
			if !m.Writable || m.ReadOnly || m.Seal || !m.Slave {
				t.Errorf("mount %+v: want writable, not sealed, a slave", m)
			}
		})
	}
}

func TestUnixExportPath(t *testing.T) {
	if got, want := UnixExportPath("web"), "/run/sockspawn/unix-export/web"; got != want {
		t.Errorf("UnixExportPath(web) = %q, want %q", got, want)
	}
}
