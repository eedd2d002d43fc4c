package units

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseSetCredential(t *testing.T) {
	tests := []struct {
		in      string
		want    Credential
		wantErr string
	}{
		{"pw:secret", Credential{ID: "pw", Data: []byte("secret")}, ""},
		{"pw:", Credential{ID: "pw", Data: []byte{}}, ""},
		{"pw:a:b", Credential{ID: "pw", Data: []byte("a:b")}, ""},
		{`k:line1\nline2\t\\\"\x00\101\u00e9\s`, Credential{ID: "k", Data: []byte("line1\nline2\t\\\"\x00Aé ")}, ""},
		{"with space:x", Credential{ID: "with space", Data: []byte("x")}, ""},
		{"nocolon", Credential{}, `invalid --set-credential "nocolon": no ':' after the credential name`},
		{":x", Credential{}, `credential name "": empty`},
		{"..:x", Credential{}, `"." and ".." are not allowed`},
		{"a/b:x", Credential{}, `character '/' at position 2`},
		{strings.Repeat("a", 256) + ":x", Credential{}, "longer than 255"},
		{`k:\q`, Credential{}, `unknown escape \q`},
		{`k:\x4`, Credential{}, `want \xNN`},
		{`k:\`, Credential{}, "lone backslash"},
		{`k:\400`, Credential{}, `above \377`},
		{`k:\ud800`, Credential{}, "not a valid code point"},
		{`k:\U0000004`, Credential{}, `want \U and 8 hex digits`},
	}
	for _, tt := range tests {
		got, err := ParseSetCredential(tt.in)
		checkErr(t, err, tt.wantErr)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSetCredential(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseLoadCredential(t *testing.T) {
	tests := []struct {
		in      string
		want    Credential
		wantErr string
	}{
		{"key:/etc/key", Credential{ID: "key", Path: "/etc/key"}, ""},
		{"key:host-key", Credential{ID: "key", Path: "host-key"}, ""},
		{"key:", Credential{}, `invalid --load-credential "key:": empty path`},
		{"key:/etc/../key", Credential{}, "not normalized"},
		{"key:a/b", Credential{}, `path "a/b" is neither absolute nor a credential name`},
		{"key", Credential{}, "no ':'"},
	}
	for _, tt := range tests {
		got, err := ParseLoadCredential(tt.in)
		checkErr(t, err, tt.wantErr)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseLoadCredential(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestFormatCredential(t *testing.T) {
	tests := []struct {
		c    Credential
		want string
	}{
		{Credential{ID: "k", Path: "/p"}, "k:/p"},
		{Credential{ID: "k", Data: []byte("plain text")}, "k:plain text"},
		{Credential{ID: "k", Data: []byte("a\\b\n\x00\xff")}, `k:a\\b\n\x00\xff`},
		{Credential{ID: "k", Data: []byte("ends with \\")}, `k:ends with \x5c`},
		{Credential{ID: "k", Data: []byte("trailing ")}, `k:trailing\x20`},
	}
	for _, tt := range tests {
		if got := FormatCredential(tt.c); got != tt.want {
			t.Errorf("FormatCredential(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func FuzzParseSetCredential(f *testing.F) {
	for _, s := range []string{"pw:secret", `k:\x00\n\\`, "k:", `k:\u00e9`, "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSetCredential(s)
		if err != nil {
			return
		}
		out := FormatCredential(c)
		c2, err := ParseSetCredential(out)
		if err != nil || c2.ID != c.ID || !bytes.Equal(c2.Data, c.Data) {
			t.Fatalf("ParseSetCredential(%q) = %+v; FormatCredential = %q; parsed again: %+v, %v", s, c, out, c2, err)
		}
		if strings.HasSuffix(out, `\`) || strings.HasSuffix(out, " ") && !strings.HasSuffix(c.ID+":", out) {
			t.Fatalf("FormatCredential = %q would not survive a unit file", out)
		}
	})
}

func FuzzParseLoadCredential(f *testing.F) {
	for _, s := range []string{"k:/p", "k:name", "k:a/b", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseLoadCredential(s)
		if err != nil {
			return
		}
		if out := FormatCredential(c); out != s {
			t.Fatalf("ParseLoadCredential(%q) then FormatCredential = %q", s, out)
		}
	})
}
