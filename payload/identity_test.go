package payload

import (
	"regexp"
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
		if !canonicalUUID.MatchString(u) {
			t.Errorf("StableUUID(%q) = %q: not a canonical UUID", n, u)
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
