package payload

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var canonicalV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
var canonicalUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestStableUUID(t *testing.T) {
	names := []string{"web", "web2", "db", "a", "", "Web", "web.example.com", strings.Repeat("x", 64)}
	seen := map[string]string{}
	for _, n := range names {
		u := StableUUID(n)
		if !canonicalV4.MatchString(u) {
			t.Errorf("StableUUID(%q) = %q: not a canonical version 4 UUID", n, u)
		}
		if again := StableUUID(n); again != u {
			t.Errorf("StableUUID(%q) is not stable: %q then %q", n, u, again)
		}
		if other, dup := seen[u]; dup {
			t.Errorf("StableUUID(%q) = StableUUID(%q) = %q", n, other, u)
		}
		seen[u] = n
		if norm, err := NormalizeUUID(u); err != nil || norm != u {
			t.Errorf("NormalizeUUID(StableUUID(%q)) = %q, %v; want it unchanged", n, norm, err)
		}
	}
}

// The derivation is part of the on-disk contract: a volatile machine's
// /etc/machine-id comes from it, so it must not change between releases.
func TestStableUUIDPinned(t *testing.T) {
	got := StableUUID("web")
	const want = "28b3a370-0309-415b-939e-db00a4a1528f"
	if got != want {
		t.Errorf("StableUUID(web) = %s, want %s", got, want)
	}
}

func TestNormalizeUUID(t *testing.T) {
	const canon = "0123abcd-4567-89ef-0123-456789abcdef"
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: canon, want: canon},
		{in: "0123abcd456789ef0123456789abcdef", want: canon},
		{in: "0123ABCD-4567-89EF-0123-456789ABCDEF", want: canon},
		{in: "0123ABCD456789ef0123456789ABCDEF", want: canon},
		{in: "00000000-0000-0000-0000-000000000001", want: "00000000-0000-0000-0000-000000000001"},
		{in: "00000000-0000-0000-0000-000000000000", wantErr: "all-zero"},
		{in: "00000000000000000000000000000000", wantErr: "all-zero"},
		{in: "", wantErr: "invalid UUID"},
		{in: "0123abcd-4567-89ef-0123-456789abcde", wantErr: "invalid UUID"},
		{in: "0123abcd-4567-89ef-0123-456789abcdef0", wantErr: "invalid UUID"},
		{in: "0123abcg-4567-89ef-0123-456789abcdef", wantErr: "invalid UUID"},
		{in: "{0123abcd-4567-89ef-0123-456789abcdef}", wantErr: "invalid UUID"},
		{in: "0123abcd-4567-89ef-0123-456789abcdef\n", wantErr: "invalid UUID"},
		{in: " 0123abcd-4567-89ef-0123-456789abcdef", wantErr: "invalid UUID"},
		{in: "0123abcd--4567-89ef-0123-456789abcdef", wantErr: "invalid UUID"},
		{in: "0123-abcd-4567-89ef-0123-456789abcdef", wantErr: "invalid UUID"},
	}
	for _, tt := range tests {
		got, err := NormalizeUUID(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("NormalizeUUID(%q): %v", tt.in, err)
		case tt.wantErr == "" && got != tt.want:
			t.Errorf("NormalizeUUID(%q) = %q, want %q", tt.in, got, tt.want)
		case tt.wantErr != "" && err == nil:
			t.Errorf("NormalizeUUID(%q) = %q, want an error", tt.in, got)
		case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("NormalizeUUID(%q) error %q does not contain %q", tt.in, err, tt.wantErr)
		case tt.wantErr != "" && !strings.Contains(err.Error(), strconv.Quote(tt.in)):
			t.Errorf("NormalizeUUID(%q) error %q does not name the value", tt.in, err)
		}
	}
}

func TestMachineID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0123abcd-4567-89ef-0123-456789abcdef", "0123abcd456789ef0123456789abcdef"},
		{StableUUID("web"), strings.ReplaceAll(StableUUID("web"), "-", "")},
	}
	for _, tt := range tests {
		got := MachineID(tt.in)
		if got != tt.want {
			t.Errorf("MachineID(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got) {
			t.Errorf("MachineID(%q) = %q: not 32 lowercase hex digits", tt.in, got)
		}
	}
}

func FuzzNormalizeUUID(f *testing.F) {
	for _, s := range []string{
		"0123abcd-4567-89ef-0123-456789abcdef",
		"0123ABCD456789EF0123456789ABCDEF",
		"00000000-0000-0000-0000-000000000000",
		"0123abcd4567-89ef0123-456789abcdef",
		"",
		"zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := NormalizeUUID(s)
		if err != nil {
			if u != "" {
				t.Errorf("NormalizeUUID(%q) = %q with error %v", s, u, err)
			}
			return
		}
		if !canonicalUUID.MatchString(u) {
			t.Fatalf("NormalizeUUID(%q) = %q: not canonical", s, u)
		}
		if again, err := NormalizeUUID(u); err != nil || again != u {
			t.Errorf("NormalizeUUID(%q) = %q, %v; want %q (idempotent)", u, again, err, u)
		}
		if want := strings.ToLower(strings.ReplaceAll(s, "-", "")); MachineID(u) != want {
			t.Errorf("MachineID(NormalizeUUID(%q)) = %q, want %q", s, MachineID(u), want)
		}
		if strings.Trim(MachineID(u), "0") == "" {
			t.Errorf("NormalizeUUID(%q) accepted the all-zero UUID", s)
		}
	})
}
