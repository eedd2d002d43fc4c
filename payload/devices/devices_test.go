package devices

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDefaultAllow(t *testing.T) {
	var got []string
	for _, r := range DefaultAllow() {
		got = append(got, r.String())
	}
	want := []string{
		"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
		"c 5:0 rwm", "c 5:2 rwm", "c 10:200 rwm",
		"c 136:* rwm", "c 137:* rwm", "c 138:* rwm", "c 139:* rwm",
		"c 140:* rwm", "c 141:* rwm", "c 142:* rwm", "c 143:* rwm",
	}
	if !slices.Equal(got, want) {
		t.Errorf("DefaultAllow() =\n%q\nwant\n%q", got, want)
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		in   string
		want Rule
	}{
		{"c 1:3 rwm", Rule{'c', 1, 3, "rwm"}},
		{"c 136:* rw", Rule{'c', 136, Wildcard, "rw"}},
		{"b *:* m", Rule{'b', Wildcard, Wildcard, "m"}},
		{"b 7:0", Rule{'b', 7, 0, "rwm"}},
		{"a", Rule{'a', Wildcard, Wildcard, "rwm"}},
		{"a *:5 r", Rule{'a', Wildcard, 5, "r"}},
		{"  c\t10:200   mwr  ", Rule{'c', 10, 200, "rwm"}},
		{"c 1:3 wrrw", Rule{'c', 1, 3, "rw"}},
		{"c 4095:1048575 w", Rule{'c', MaxMajor, MaxMinor, "w"}},
		{"c 007:010 r", Rule{'c', 7, 10, "r"}},
	}
	for _, tt := range tests {
		got, err := ParseRule(tt.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseRule(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	for _, in := range []string{
		"", "c", "b", "x 1:3 rwm", "cc 1:3 rwm", "c 1 rwm", "c 1:3:4 rwm",
		"c 1:3 rwx", "c 1:3 rwm extra", "c -1:3 rwm", "c 1:-1 rwm",
		"c +1:3 rwm", "c 0x1:3 rwm", "c 1_0:3 rwm", "c :3 rw", "c 1: rw",
		"c 4096:0 rw", "c 0:1048576 rw", "c 1:99999999999 rw", "c **:1 rw",
		"a 1", "c 1:3 RWM", "c 1:3 r,w",
	} {
		if r, err := ParseRule(in); err == nil {
			t.Errorf("ParseRule(%q) = %+v, want an error", in, r)
		} else if !strings.Contains(err.Error(), "device rule") {
			t.Errorf("ParseRule(%q): error %q does not name the rule", in, err)
		}
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"c 1:3 rwm", "c 136:* rw", "b *:* m", "a", "b 7:0", "c 4095:1048575 w", "c 1:3 wrm"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			return
		}
		if err := r.validate(); err != nil {
			t.Fatalf("ParseRule(%q) = %+v, which is invalid: %v", s, r, err)
		}
		again, err := ParseRule(r.String())
		if err != nil {
			t.Fatalf("ParseRule(%q) = %+v, but ParseRule(%q): %v", s, r, r.String(), err)
		}
		if again != r {
			t.Fatalf("round trip of %q: %+v, then %q, then %+v", s, r, r.String(), again)
		}
		if _, err := Program([]Rule{r}); err != nil {
			t.Fatalf("Program(%+v): %v", r, err)
		}
	})
}

func TestAllowed(t *testing.T) {
	rules := []Rule{
		{'c', 1, 3, "rwm"},
		{'c', 136, Wildcard, "rw"},
		{'b', Wildcard, 0, "r"},
		{'a', 250, 1, "m"},
		{'c', 9999, 0, "rwm"}, // invalid: ignored
		{'c', 251, 1, ""},     // invalid: ignored
	}
	tests := []struct {
		typ          byte
		major, minor int64
		access       string
		want         bool
	}{
		{'c', 1, 3, "rwm", true},
		{'c', 1, 3, "r", true},
		{'c', 1, 3, "mw", true},
		{'b', 1, 3, "r", false}, // type differs; b *:0 needs minor 0
		{'c', 1, 4, "r", false},
		{'c', 2, 3, "r", false},
		{'c', 136, 0, "rw", true},
		{'c', 136, 77, "w", true},
		{'c', 136, 77, "m", false},
		{'c', 136, 77, "rwm", false},
		{'b', 8, 0, "r", true},
		{'b', 8, 0, "w", false},
		{'b', 8, 1, "r", false},
		{'c', 8, 0, "r", false},
		{'c', 250, 1, "m", true},
		{'b', 250, 1, "m", true},
		{'b', 250, 1, "rm", false},
		{'c', 250, 2, "m", false},
		{'c', 9999, 0, "r", false},
		{'c', 251, 1, "r", false},
		{'c', 1, 3, "", false},  // empty request
		{'c', 1, 3, "x", false}, // invalid request
		{'a', 1, 3, "r", false}, // a request is c or b
		{'x', 1, 3, "r", false},
	}
	for _, tt := range tests {
		if got := Allowed(rules, tt.typ, tt.major, tt.minor, tt.access); got != tt.want {
			t.Errorf("Allowed(%c %d:%d %s) = %v, want %v", tt.typ, tt.major, tt.minor, tt.access, got, tt.want)
		}
	}
	if Allowed(nil, 'c', 1, 3, "r") {
		t.Error("no rules allow c 1:3 r")
	}
}

func TestRuleForNode(t *testing.T) {
	got, err := RuleForNode("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Rule{'c', 1, 3, "rwm"}); got != want {
		t.Errorf("RuleForNode(/dev/null) = %+v, want %+v", got, want)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RuleForNode(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("RuleForNode(regular file) = %v, want an error naming it", err)
	}
	if _, err := RuleForNode(dir); err == nil {
		t.Error("RuleForNode(directory) succeeded")
	}
	missing := filepath.Join(dir, "missing")
	if _, err := RuleForNode(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RuleForNode(missing) = %v, want ErrNotExist", err)
	}
	link := filepath.Join(dir, "null")
	if err := os.Symlink("/dev/null", link); err != nil {
		t.Fatal(err)
	}
	if got, err := RuleForNode(link); err != nil || got.Major != 1 || got.Minor != 3 {
		t.Errorf("RuleForNode(symlink to /dev/null) = %+v, %v", got, err)
	}
}
