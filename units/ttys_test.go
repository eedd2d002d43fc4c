package units

import (
	"strings"
	"testing"
)

func TestParseTTYs(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{"0", 0, ""},
		{"2", 2, ""},
		{"16", 16, ""},
		{"17", 0, "at most 16"},
		{"1000000", 0, "at most 16"},
		{"-1", 0, "at most 16"},
		{"", 0, "want a number"},
		{"two", 0, "want a number"},
		{"02", 0, "want a number"},
		{" 2", 0, "want a number"},
	}
	for _, tt := range tests {
		got, err := ParseTTYs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTTYs(%q) = %d, %v; want an error with %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseTTYs(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseTTYs(f *testing.F) {
	for _, s := range []string{"0", "2", "16", "17", "-1", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseTTYs(s)
		if err != nil {
			return
		}
		if n < 0 || n > MaxTTYs {
			t.Fatalf("ParseTTYs(%q) = %d, out of range", s, n)
		}
		if back, err := ParseTTYs(FormatTTYs(n)); err != nil || back != n {
			t.Fatalf("round trip of %d: %d, %v", n, back, err)
		}
	})
}
