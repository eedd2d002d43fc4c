package activation

import (
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
