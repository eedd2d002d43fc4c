package units

import (
	"strings"
	"testing"
)

func TestParseBindUser(t *testing.T) {
	for _, tt := range []struct{ in, wantErr string }{
		{"alice", ""},
		{"e2e-bu.1", ""},
		{"_svc", ""},
		{"root", "refusing to bind root"},
		{"", "want a user name"},
		{"1alice", "not a valid user name"},
		{"al:ice", "not a valid user name"},
		{"../etc", "not a valid user name"},
		{"al ice", "not a valid user name"},
	} {
		got, err := ParseBindUser(tt.in)
		if tt.wantErr == "" {
			if err != nil || got != tt.in {
				t.Errorf("ParseBindUser(%q) = %q, %v", tt.in, got, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseBindUser(%q) = %v, want an error with %q", tt.in, err, tt.wantErr)
		}
	}
}

func FuzzParseBindUser(f *testing.F) {
	for _, s := range []string{"alice", "root", "", "a/b", "x.y-z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseBindUser(s)
		if err != nil {
			return
		}
		if got != s || s == "root" || strings.ContainsAny(s, "/: \n\x00") {
			t.Fatalf("accepted %q", s)
		}
	})
}
