package activation

import (
	"strconv"
	"strings"
	"testing"
)

func TestInotifyWarning(t *testing.T) {
	tests := []struct {
		name        string
		b           InotifyBudget
		need        int
		warn        bool
		wantSuggest int
	}{
		{"fresh host, default limit", InotifyBudget{Limit: 128, Used: 12}, 8, false, 0},
		{"just enough", InotifyBudget{Limit: 128, Used: 120}, 8, false, 0},
		{"one short", InotifyBudget{Limit: 128, Used: 121}, 8, true, 384},
		{"16 machines on the default", InotifyBudget{Limit: 128, Used: 125}, 8, true, 384},
		{"over the limit (lowered under use)", InotifyBudget{Limit: 100, Used: 130}, 8, true, 384},
		{"raised limit, nearly full", InotifyBudget{Limit: 1024, Used: 1020}, 8, true, 2176},
		{"limit zero", InotifyBudget{Limit: 0, Used: 0}, 8, true, 128},
		{"no need", InotifyBudget{Limit: 0, Used: 5}, 0, false, 0},
	}
	for _, tt := range tests {
		got := InotifyWarning(tt.b, tt.need)
		if (got != "") != tt.warn {
			t.Errorf("%s: warning %q, want one: %v", tt.name, got, tt.warn)
			continue
		}
		if !tt.warn {
			continue
		}
		if s := tt.b.Suggest(tt.need); s != tt.wantSuggest {
			t.Errorf("%s: Suggest = %d, want %d", tt.name, s, tt.wantSuggest)
		}
		// The message names the sysctl, its value now, the value to
		// raise it to, and what is free.
		for _, want := range []string{
			InotifySysctl + "=" + strconv.Itoa(tt.b.Limit),
			"sysctl -w " + InotifySysctl + "=" + strconv.Itoa(tt.wantSuggest),
			strconv.Itoa(tt.b.Free()) + " free",
			"READY=1",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: warning lacks %q:\n%s", tt.name, want, got)
			}
		}
	}
}

// A suggestion always leaves room for the machine and never lowers the
// limit.
func FuzzInotifySuggest(f *testing.F) {
	f.Add(128, 125, 8)
	f.Add(0, 0, 1)
	f.Fuzz(func(t *testing.T, limit, used, need int) {
		if limit < 0 || used < 0 || need < 0 || limit > 1<<30 || used > 1<<30 || need > 1<<20 {
			return
		}
		b := InotifyBudget{Limit: limit, Used: used}
		s := b.Suggest(need)
		if s < limit || s-used < need || s%128 != 0 {
			t.Errorf("Suggest(%+v, %d) = %d", b, need, s)
		}
		if (InotifyBudget{Limit: s, Used: used}).Short(need) {
			t.Errorf("the suggested limit %d is still short for %d with %d used", s, need, used)
		}
	})
}
