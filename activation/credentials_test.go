package activation

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestCredentialNameValid(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"password", true},
		{"tls.key", true},
		{"a b", true},
		{strings.Repeat("a", 255), true},
		{"", false},
		{".", false},
		{"..", false},
		{"...", true},
		{"a/b", false},
		{"a:b", false},
		{"a\nb", false},
		{"caf\u00e9", false},
		{strings.Repeat("a", 256), false},
	}
	for _, tt := range tests {
		if got := CredentialNameValid(tt.id); got != tt.want {
			t.Errorf("CredentialNameValid(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestParseSetCredential(t *testing.T) {
	tests := []struct {
		in      string
		want    Credential
		wantErr string
	}{
		{in: "pw:secret", want: Credential{"pw", []byte("secret")}},
		{in: "pw:", want: Credential{"pw", []byte{}}},
		{in: "url:http://x:80/", want: Credential{"url", []byte("http://x:80/")}},
		{in: `k:a\nb\tc\\d`, want: Credential{"k", []byte("a\nb\tc\\d")}},
		{in: `k:\a\b\f\r\v\"\'\s`, want: Credential{"k", []byte("\a\b\f\r\v\"' ")}},
		{in: `k:\x00\x41\xfF`, want: Credential{"k", []byte{0, 'A', 0xff}}},
		{in: `k:\101\000\377`, want: Credential{"k", []byte{'A', 0, 0xff}}},
		{in: `k:\u00e9\U0001F600`, want: Credential{"k", []byte("\u00e9\U0001F600")}},
		{in: `k:\u0000`, want: Credential{"k", []byte{0}}},
		{in: "secret", wantErr: "not ID:VALUE"},
		{in: ":x", wantErr: "invalid credential name"},
		{in: "a/b:x", wantErr: "invalid credential name"},
		{in: "..:x", wantErr: "invalid credential name"},
		{in: `k:a\`, wantErr: "lone backslash"},
		{in: `k:\q`, wantErr: `unknown escape \q`},
		{in: `k:\x4`, wantErr: "2 hex digits"},
		{in: `k:\xg0`, wantErr: "2 hex digits"},
		{in: `k:\12`, wantErr: "three digits"},
		{in: `k:\128`, wantErr: "three digits"},
		{in: `k:\400`, wantErr: `larger than \377`},
		{in: `k:\ud800`, wantErr: "not a valid code point"},
		{in: `k:\U00110000`, wantErr: "not a valid code point"},
		{in: `k:\uFFFE`, wantErr: "not a valid code point"},
		{in: `k:\u12`, wantErr: "4 hex digits"},
		{in: "k:" + strings.Repeat("x", MaxCredentialSize+1), wantErr: "more than"},
	}
	for _, tt := range tests {
		t.Run(truncate(tt.in), func(t *testing.T) {
			got, err := ParseSetCredential(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tt.want.ID || !bytes.Equal(got.Data, tt.want.Data) {
				t.Errorf("got %q %q, want %q %q", got.ID, got.Data, tt.want.ID, tt.want.Data)
			}
		})
	}
}

func TestFormatSetCredential(t *testing.T) {
	tests := []struct {
		c    Credential
		want string
	}{
		{Credential{"pw", []byte("plain text")}, "pw:plain text"},
		{Credential{"k", []byte("a\nb\\c\td")}, `k:a\nb\\c\td`},
		{Credential{"k", []byte{0, 0x7f, 0xff, '\r'}}, `k:\x00\x7f\xff\x0d`},
	}
	for _, tt := range tests {
		if got := FormatSetCredential(tt.c); got != tt.want {
			t.Errorf("FormatSetCredential(%q) = %q, want %q", tt.c.Data, got, tt.want)
		}
	}
}

func TestParseLoadCredential(t *testing.T) {
	tests := []struct {
		in       string
		id, path string
		wantErr  string
	}{
		{in: "tls.key:/etc/ssl/web.key", id: "tls.key", path: "/etc/ssl/web.key"},
		{in: "pw:host-pw", id: "pw", path: "host-pw"},
		{in: "pw:/a:b", id: "pw", path: "/a:b"},
		{in: "pw", wantErr: "not ID:PATH"},
		{in: "a/b:/x", wantErr: "invalid credential name"},
		{in: "pw:", wantErr: "neither absolute"},
		{in: "pw:sub/file", wantErr: "neither absolute"},
		{in: "pw:..", wantErr: "neither absolute"},
		{in: "pw:/a\x00b", wantErr: "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, path, err := ParseLoadCredential(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.id || path != tt.path {
				t.Errorf("got %q %q, want %q %q", id, path, tt.id, tt.path)
			}
		})
	}
}

func TestMergeCredentials(t *testing.T) {
	c := func(id, data string) Credential { return Credential{id, []byte(data)} }
	tests := []struct {
		name                string
		inherited, explicit []Credential
		want                []Credential
	}{
		{"none", nil, nil, nil},
		{"inherited only", []Credential{c("a", "1")}, nil, []Credential{c("a", "1")}},
		{"explicit only", nil, []Credential{c("b", "2")}, []Credential{c("b", "2")}},
		{"disjoint", []Credential{c("a", "1"), c("b", "2")}, []Credential{c("c", "3")},
			[]Credential{c("a", "1"), c("b", "2"), c("c", "3")}},
		{"explicit wins in place", []Credential{c("a", "1"), c("b", "2")}, []Credential{c("c", "3"), c("a", "X")},
			[]Credential{c("a", "X"), c("b", "2"), c("c", "3")}},
		{"last explicit wins", nil, []Credential{c("a", "1"), c("b", "2"), c("a", "3")},
			[]Credential{c("a", "3"), c("b", "2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MergeCredentials(tt.inherited, tt.explicit); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzParseSetCredential round-trips accepted credentials through
// FormatSetCredential.
func FuzzParseSetCredential(f *testing.F) {
	for _, s := range []string{"pw:secret", `k:\x00\n\\`, `k:\u00e9\U0001F600\101`, "k:a\\", `k:\400`, ":", "a/b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSetCredential(s)
		if err != nil {
			return
		}
		if !CredentialNameValid(c.ID) || len(c.Data) > MaxCredentialSize {
			t.Fatalf("accepted %q as %q (%d bytes)", s, c.ID, len(c.Data))
		}
		text := FormatSetCredential(c)
		again, err := ParseSetCredential(text)
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", s, text, err)
		}
		if again.ID != c.ID || !bytes.Equal(again.Data, c.Data) {
			t.Fatalf("%q: %q %q became %q %q", s, c.ID, c.Data, again.ID, again.Data)
		}
	})
}

// FuzzParseLoadCredential checks that accepted paths are absolute or plain
// credential names.
func FuzzParseLoadCredential(f *testing.F) {
	for _, s := range []string{"k:/etc/x", "k:name", "k:a/b", "k:..", "/x", "k:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, path, err := ParseLoadCredential(s)
		if err != nil {
			return
		}
		if !CredentialNameValid(id) || id+":"+path != s {
			t.Fatalf("%q: id %q path %q", s, id, path)
		}
		if !strings.HasPrefix(path, "/") && !CredentialNameValid(path) {
			t.Fatalf("%q: path %q is neither absolute nor a name", s, path)
		}
	})
}
