package systemd

import (
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
		{"a\x7fb", false},
		{"\x00", false},
		{strings.Repeat("a", 256), false},
	}
	for _, tt := range tests {
		if got := CredentialNameValid(tt.id); got != tt.want {
			t.Errorf("CredentialNameValid(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestCheckCredentialName(t *testing.T) {
	for id, want := range map[string]string{
		"":                       "empty",
		"..":                     `"." and ".." are not allowed`,
		"a:b":                    `character ':' at position 2 is not allowed`,
		strings.Repeat("a", 256): "longer than 255 bytes",
	} {
		if err := CheckCredentialName(id); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckCredentialName(%q) = %v, want an error containing %q", id, err, want)
		}
	}
}
