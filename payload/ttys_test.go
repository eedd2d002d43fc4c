package payload

import (
	"reflect"
	"testing"
)

func TestTTYNames(t *testing.T) {
	tests := []struct {
		console string
		n       int
		want    []string
	}{
		{ConsolePTY, 0, nil},
		{ConsolePTY, 2, []string{"pts/1", "pts/2"}}, // pts/0 is the console
		{ConsolePipe, 2, []string{"pts/0", "pts/1"}},
		{ConsolePTY, 1, []string{"pts/1"}},
	}
	for _, tt := range tests {
		if got := TTYNames(tt.console, tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("TTYNames(%s, %d) = %q, want %q", tt.console, tt.n, got, tt.want)
		}
	}
}

func TestPlanTTYsAndEnvironment(t *testing.T) {
	o := goodOptions()
	o.TTYs = 3
	p, err := NewPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pts/1", "pts/2", "pts/3"}
	if !reflect.DeepEqual(p.TTYs, want) {
		t.Errorf("Plan.TTYs = %q, want %q", p.TTYs, want)
	}
	env := Environment(EnvInput{UUID: "u", TTYs: p.TTYs})
	found := false
	for _, kv := range env {
		if kv == "container_ttys=pts/1 pts/2 pts/3" {
			found = true
		}
	}
	if !found {
		t.Errorf("environment %q lacks container_ttys=pts/1 pts/2 pts/3", env)
	}
	o.TTYs = -1
	if _, err := NewPlan(o); err == nil {
		t.Error("NewPlan accepted -1 ttys")
	}
}
