package activation

import (
	"reflect"
	"testing"
)

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
