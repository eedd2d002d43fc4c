package units

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr string
	}{
		{"1", true, ""}, {"yes", true, ""}, {"Y", true, ""}, {"TRUE", true, ""}, {"t", true, ""}, {"On", true, ""},
		{"0", false, ""}, {"no", false, ""}, {"N", false, ""}, {"false", false, ""}, {"F", false, ""}, {"OFF", false, ""},
		{"", false, `invalid value "": not a boolean`},
		{"maybe", false, "not a boolean"},
		{" yes", false, "not a boolean"},
		{"2", false, "not a boolean"},
	}
	for _, tt := range tests {
		got, err := ParseBool(tt.in)
		checkErr(t, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("ParseBool(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseVolatile(t *testing.T) {
	tests := []struct {
		in      string
		want    systemd.Volatile
		wantErr string
	}{
		{"no", systemd.VolatileNo, ""}, {"yes", systemd.VolatileYes, ""}, {"state", systemd.VolatileState, ""},
		{"true", systemd.VolatileYes, ""}, {"0", systemd.VolatileNo, ""}, {"STATE", systemd.VolatileState, ""},
		{"overlay", "", `invalid --volatile "overlay": overlay mode is not supported`},
		{"", "", "unknown mode"},
		{"ram", "", `invalid --volatile "ram": unknown mode (use no, yes or state)`},
	}
	for _, tt := range tests {
		got, err := ParseVolatile(tt.in)
		checkErr(t, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("ParseVolatile(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseConsole(t *testing.T) {
	tests := []struct {
		in      string
		want    Console
		wantErr string
	}{
		{"interactive", ConsoleInteractive, ""}, {"read-only", ConsoleReadOnly, ""},
		{"passive", ConsolePassive, ""}, {"pipe", ConsolePipe, ""},
		{"autopipe", "", "autopipe is not supported"},
		{"Pipe", "", `invalid --console "Pipe": unknown mode`},
		{"", "", "unknown mode"},
	}
	for _, tt := range tests {
		got, err := ParseConsole(tt.in)
		checkErr(t, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("ParseConsole(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseUUID(t *testing.T) {
	const canon = "0123abcd-4567-89ef-0123-456789abcdef"
	tests := []struct{ in, want, wantErr string }{
		{canon, canon, ""},
		{"0123ABCD456789EF0123456789ABCDEF", canon, ""},
		{"0123ABCD-4567-89EF-0123-456789ABCDEF", canon, ""},
		{"", "", "not a UUID"},
		{"0123abcd-4567-89ef-0123-456789abcde", "", "not a UUID"},
		{"0123abcd+4567-89ef-0123-456789abcdef", "", "not a UUID"},
		{"0123abcd-4567-89ef-0123-456789abcdeg", "", `'g' is not a hex digit`},
		{"00000000-0000-0000-0000-000000000000", "", "all-zero"},
	}
	for _, tt := range tests {
		got, err := ParseUUID(tt.in)
		checkErr(t, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("ParseUUID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseSetenv(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"A=1", ""}, {"_x=", ""}, {"PATH=/bin:/usr/bin", ""}, {"A=b=c", ""}, {"A=with space\tand tab", ""}, {"LANG=é", ""},
		{"A", "want KEY=VALUE"},
		{"=x", "empty variable name"},
		{"1A=x", `character '1' at position 1`},
		{"A-B=x", `character '-' at position 2`},
		{"A=x\ny", "control character"},
	}
	for _, tt := range tests {
		got, err := ParseSetenv(tt.in)
		checkErr(t, err, tt.wantErr)
		if err == nil && got != tt.in {
			t.Errorf("ParseSetenv(%q) = %q", tt.in, got)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "invalid --setenv ") {
			t.Errorf("error %q does not name the flag", err)
		}
	}
}

func TestParseDirectory(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"/var/lib/machines/web", ""},
		{"/", ""},
		{"", "directory is empty"},
		{"rel", `directory "rel" is not an absolute path`},
		{"/a/../b", `is not normalized (did you mean "/b"?)`},
		{"/a/", "is not normalized"},
		{"/a//b", "is not normalized"},
		{"/a\n", "control character"},
		{`/a\`, "ends with a backslash"},
	}
	for _, tt := range tests {
		_, err := ParseDirectory(tt.in)
		checkErr(t, err, tt.wantErr)
		var ve *ValueError
		if err != nil && (!errors.As(err, &ve) || ve.Option != "--directory") {
			t.Errorf("ParseDirectory(%q) error %v is not a --directory ValueError", tt.in, err)
		}
	}
}

// TestParseListen: Listen= and --listen take systemd.ParseListen's syntax
// (tested there, form by form), keep the value as given and name the flag;
// `new --listen` takes only what a ListenStream= line can hold.
func TestParseListen(t *testing.T) {
	tests := []struct{ in, wantErr, wantStreamErr string }{
		{"/run/web.sock", "", ""}, {"@web", "", ""}, {"80", "", ""}, {"65535", "", ""}, {"127.0.0.1:8080", "", ""},
		{"[::1]:443", "", ""}, {"[::]:80", "", ""}, {"0.0.0.0:1", "", ""}, {"080", "", ""},
		{"web=80", "", "not a port"},
		{"datagram:53", "", "not a port"},
		{"web=seqpacket:/run/ctl", "", "not a port"},
		{"/run/a b", "", "whitespace"},
		{"/run/%i.sock", "", "specifier"},
		{"", "empty address", "empty address"},
		{"0", "between 1 and 65535", "between 1 and 65535"},
		{"1.2.3.4:0", "port 0", "port 0"},
		{"localhost:80", "not a port", "not a port"},
		{"/run/../x", "not normalized", "not normalized"},
		{"@", "empty abstract", "empty abstract"},
		{"/" + strings.Repeat("a", 107), "longer than 107", "longer than 107"},
		{"=80", "invalid fd name", "not a port"},
	}
	for _, tt := range tests {
		got, err := ParseListen(tt.in)
		checkErr(t, err, tt.wantErr)
		if err == nil && got != tt.in {
			t.Errorf("ParseListen(%q) = %q", tt.in, got)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "invalid --listen ") {
			t.Errorf("error %q does not name the flag", err)
		}
		err = parseListenStream(tt.in)
		checkErr(t, err, tt.wantStreamErr)
		if err != nil && !strings.HasPrefix(err.Error(), "invalid --listen ") {
			t.Errorf("error %q does not name the flag", err)
		}
	}
}

func FuzzParseBool(f *testing.F) {
	for _, s := range []string{"yes", "no", "On", "0", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBool(s)
		if err != nil {
			return
		}
		if b2, err := ParseBool(FormatBool(b)); err != nil || b2 != b {
			t.Fatalf("round trip of %q: %v, %v", s, b2, err)
		}
	})
}

func FuzzParseVolatile(f *testing.F) {
	for _, s := range []string{"yes", "no", "state", "overlay", "TRUE", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVolatile(s)
		if err != nil {
			return
		}
		if v2, err := ParseVolatile(string(v)); err != nil || v2 != v {
			t.Fatalf("round trip of %q: %q, %v", s, v2, err)
		}
	})
}

func FuzzParseConsole(f *testing.F) {
	for _, s := range []string{"interactive", "read-only", "passive", "pipe", "autopipe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConsole(s)
		if err != nil {
			return
		}
		if string(c) != s {
			t.Fatalf("ParseConsole(%q) = %q", s, c)
		}
	})
}

func FuzzParseUUID(f *testing.F) {
	for _, s := range []string{"0123abcd-4567-89ef-0123-456789abcdef", "0123ABCD456789EF0123456789ABCDEF", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUUID(s)
		if err != nil {
			return
		}
		if u2, err := ParseUUID(u); err != nil || u2 != u {
			t.Fatalf("ParseUUID(%q) = %q, not canonical: %q, %v", s, u, u2, err)
		}
		if !strings.EqualFold(strings.ReplaceAll(u, "-", ""), strings.ReplaceAll(s, "-", "")) {
			t.Fatalf("ParseUUID(%q) = %q changed the digits", s, u)
		}
	})
}

func FuzzParseSetenv(f *testing.F) {
	for _, s := range []string{"A=1", "=", "A", "1=2", "A=\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseSetenv(s)
		if err != nil {
			return
		}
		if e != s || strings.IndexFunc(e, isControlNotTab) >= 0 {
			t.Fatalf("ParseSetenv(%q) = %q", s, e)
		}
	})
}

func FuzzParseListen(f *testing.F) {
	for _, s := range []string{"/run/a.sock", "@a", "80", "1.2.3.4:5", "[::1]:6", "x", "/ ", "/a%b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// --listen binds the address itself: a path with a space in it
		// is a path ("/ "). What a socket unit's line cannot hold is
		// refused only for `sockspawn new`, which writes one.
		l, err := ParseListen(s)
		if err != nil {
			return
		}
		if l != s {
			t.Fatalf("ParseListen(%q) = %q", s, l)
		}
		if parseListenStream(s) == nil && (strings.IndexFunc(s, unicode.IsSpace) >= 0 || strings.Contains(s, "%")) {
			t.Fatalf("parseListenStream(%q) accepted what a ListenStream= line cannot hold", s)
		}
	})
}

func FuzzParseDirectory(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "a", "/a/../b", "/a/", `/a\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDirectory(s)
		if err != nil {
			return
		}
		if d != s || !strings.HasPrefix(d, "/") || strings.Contains(d, "//") || strings.Contains(d+"/", "/../") || strings.Contains(d+"/", "/./") {
			t.Fatalf("ParseDirectory(%q) = %q", s, d)
		}
	})
}

func TestParseLinkJournal(t *testing.T) {
	tests := []struct {
		in      string
		want    LinkJournal
		wantErr string
	}{
		{"no", LinkJournalNo, ""}, {"host", LinkJournalHost, ""}, {"try-host", LinkJournalTryHost, ""},
		{"guest", LinkJournalGuest, ""}, {"try-guest", LinkJournalTryGuest, ""}, {"auto", LinkJournalAuto, ""},
		{"yes", "", `"yes": want no, host, try-host, guest, try-guest or auto`},
		{"Host", "", "want no, host"},
		{"", "", "want no, host"},
	}
	for _, tt := range tests {
		got, err := ParseLinkJournal(tt.in)
		checkErr(t, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("ParseLinkJournal(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseLinkJournal(f *testing.F) {
	for _, s := range []string{"no", "try-guest", "auto", "", "host\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseLinkJournal(s)
		if (err == nil) != (string(m) == s && m != "") {
			t.Fatalf("ParseLinkJournal(%q) = %q, %v", s, m, err)
		}
	})
}
