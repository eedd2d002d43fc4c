package units

import (
	"strings"
	"testing"

	"github.com/sockspawn/sockspawn/templates"
)

func TestRenderUnit(t *testing.T) {
	tests := []struct {
		name     string
		template string
		vars     map[string]string
		want     []string // lines the result must hold
		wantErr  string
	}{{
		name:     "service",
		template: templates.Service,
		vars:     map[string]string{"BINDIR": "/usr/local/bin"},
		want:     []string{"ExecStart=/usr/local/bin/sockspawn boot %i", "Wants=container@%i.socket"},
	}, {
		name:     "socket checks the machine before it listens",
		template: templates.Socket,
		vars:     map[string]string{"BINDIR": "/usr/bin"},
		want:     []string{"ListenStream=/run/sockspawn/%i.sock", "ExecStartPre=/usr/bin/sockspawn check %i"},
	}, {
		name:     "machine config",
		template: templates.MachineConfig,
		vars:     map[string]string{"MACHINE": "web", "DIRECTORY": "/srv/web", "EXAMPLES": ConfigExamples("web")},
		want:     []string{"Directory=/srv/web", "#Bind=/srv/web:/srv", "# (container@web.service). Written by `sockspawn new web`."},
	}, {
		name:     "block placeholder takes lines",
		template: templates.ListenDropIn,
		vars:     map[string]string{"MACHINE": "web", "LISTEN_STREAMS": "ListenStream=80\nListenStream=/run/x.sock"},
		want:     []string{"[Socket]", "ListenStream=80", "ListenStream=/run/x.sock"},
	}, {
		name:     "missing value",
		template: templates.Service,
		vars:     map[string]string{},
		wantErr:  "template container@.service:",
	}, {
		name:     "inline value with newline",
		template: templates.Service,
		vars:     map[string]string{"BINDIR": "/bin\nExecStartPre=/bin/evil"},
		wantErr:  "the value of @BINDIR@ is more than one line",
	}, {
		name:     "unknown template",
		template: "nope",
		wantErr:  "template nope",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderUnit(tt.template, tt.vars)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			lines := strings.Split(string(got), "\n")
			for _, w := range tt.want {
				if !containsLine(lines, w) {
					t.Errorf("no line %q in:\n%s", w, got)
				}
			}
			if placeholder.Match(got) {
				t.Errorf("placeholder left in:\n%s", got)
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
