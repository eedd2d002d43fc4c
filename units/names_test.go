package units

import (
	"os/exec"
	"strings"
	"testing"
)

func TestValidMachineName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string // "" for valid
	}{
		{"web", ""},
		{"a", ""},
		{"web-1.example.com", ""},
		{"UPPER9", ""},
		{"0start", ""},
		{strings.Repeat("a", 64), ""},
		{"", "empty"},
		{strings.Repeat("a", 65), "longer than 64"},
		{"a/b", `character '/' at position 2`},
		{"a_b", `character '_' at position 2`},
		{"a b", `character ' ' at position 2`},
		{"é", `character`},
		{".web", "starts with a dot"},
		{"web.", "ends with a dot"},
		{"a..b", "two dots in a row at position 3"},
		{"-web", "a label starts with '-' at position 1"},
		{"a.-b", "a label starts with '-' at position 3"},
		{"web-", "ends with '-'"},
		{"a-.b", "a label ends with '-' at position 2"},
		{".host", "reserved"},
		{"..", "starts with a dot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidMachineName(tt.name)
			checkErr(t, err, tt.wantErr)
			if err != nil && !strings.HasPrefix(err.Error(), "invalid machine name "+quote(tt.name)+": ") {
				t.Errorf("error %q does not name the culprit", err)
			}
			if herr := ValidHostname(tt.name); (herr == nil) != (err == nil) {
				t.Errorf("ValidHostname = %v, ValidMachineName = %v", herr, err)
			}
		})
	}
}

func TestValidInstanceName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"web", ""},
		{"web-1.lan", ""},
		{"", "empty"},
		{"..", `contains ".."`},
		{"a..b", `contains ".."`},
		{"a/b", `contains "/"`},
		{"../etc", `contains "/"`},
		{"a\nb", "control character"},
		{"a\x7fb", "control character"},
		{strings.Repeat("x", 65), "longer than 64"},
		{"a_b", "character '_'"},
		{"-a", "starts with '-'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidInstanceName(tt.name)
			checkErr(t, err, tt.wantErr)
			if err != nil && !strings.HasPrefix(err.Error(), "invalid instance name ") {
				t.Errorf("error %q does not say what was invalid", err)
			}
		})
	}
}

func TestUnitNames(t *testing.T) {
	tests := []struct{ machine, service, socket string }{
		{"web", "container@web.service", "container@web.socket"},
		{"my-web.lan", "container@my-web.lan.service", "container@my-web.lan.socket"},
	}
	for _, tt := range tests {
		if got := ServiceName(tt.machine); got != tt.service {
			t.Errorf("ServiceName(%q) = %q, want %q", tt.machine, got, tt.service)
		}
		if got := SocketName(tt.machine); got != tt.socket {
			t.Errorf("SocketName(%q) = %q, want %q", tt.machine, got, tt.socket)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"web", "web"},
		{"a-b", `a\x2db`},
		{"a/b/c", "a-b-c"},
		{".hidden", `\x2ehidden`},
		{"a.b", "a.b"},
		{"a:b_c", "a:b_c"},
		{`back\slash`, `back\x5cslash`},
		{"sp ace", `sp\x20ace`},
		{"\x01", `\x01`},
		{"é", `\xc3\xa9`},
	}
	for _, tt := range tests {
		got := Escape(tt.in)
		if got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := Unescape(got)
		if err != nil || back != tt.in {
			t.Errorf("Unescape(%q) = %q, %v; want %q", got, back, err, tt.in)
		}
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{`a\x2Db`, "a-b", ""},
		{"a-b", "a/b", ""},
		{`\x`, "", "invalid escape"},
		{`\x4`, "", "invalid escape"},
		{`\y41`, "", "invalid escape"},
		{`\xzz`, "", "invalid escape"},
		{`a\`, "", "invalid escape"},
	}
	for _, tt := range tests {
		got, err := Unescape(tt.in)
		checkErr(t, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("Unescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeMatchesSystemd compares Escape with the real systemd-escape.
func TestEscapeMatchesSystemd(t *testing.T) {
	bin, err := exec.LookPath("systemd-escape")
	if err != nil {
		t.Skip("systemd-escape not installed")
	}
	for _, in := range []string{"web", "a-b/c.d é", ".x", `a\b`, "x:y_z", "tab\there", "/lead/trail/"} {
		out, err := exec.Command(bin, "--", in).Output()
		if err != nil {
			t.Fatalf("systemd-escape %q: %v", in, err)
		}
		if want := strings.TrimSuffix(string(out), "\n"); Escape(in) != want {
			t.Errorf("Escape(%q) = %q, systemd-escape says %q", in, Escape(in), want)
		}
	}
}

func FuzzValidMachineName(f *testing.F) {
	for _, s := range []string{"web", "a.b", "a..b", "-a", "a-", ".host", "a_b", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidMachineName(s)
		if err != nil {
			if !strings.Contains(err.Error(), quote(s)) {
				t.Fatalf("error %q does not name %q", err, s)
			}
			return
		}
		if len(s) == 0 || len(s) > MaxNameLength {
			t.Fatalf("accepted %q of length %d", s, len(s))
		}
		for _, label := range strings.Split(s, ".") {
			if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
				t.Fatalf("accepted %q with label %q", s, label)
			}
			for i := 0; i < len(label); i++ {
				if !isLetterOrDigit(label[i]) && label[i] != '-' {
					t.Fatalf("accepted %q with byte %q", s, label[i])
				}
			}
		}
		if err := ValidInstanceName(s); err != nil {
			t.Fatalf("valid machine name %q is not a valid instance name: %v", s, err)
		}
		if u, err := Unescape(Escape(s)); err != nil || u != s {
			t.Fatalf("escape round trip of %q: %q, %v", s, u, err)
		}
	})
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "web", "a-b/c", ".x", `\x41`, "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		for i := 0; i < len(e); i++ {
			if c := e[i]; !unitNameChar(c) && c != '-' && c != '\\' {
				t.Fatalf("Escape(%q) = %q holds %q", s, e, c)
			}
		}
		if strings.HasPrefix(e, ".") {
			t.Fatalf("Escape(%q) = %q starts with a dot", s, e)
		}
		u, err := Unescape(e)
		if err != nil || u != s {
			t.Fatalf("Unescape(Escape(%q)) = %q, %v", s, u, err)
		}
		// Unescape must not panic on anything.
		_, _ = Unescape(s)
	})
}
