package machine

import (
	"testing"

	"github.com/sockspawn/sockspawn/units"
)

func boolPtr(b bool) *bool { return &b }

// flagConfig is the Config that the flags (long name, value; "" for a
// flag given alone) set, through units' table of options as `sockspawn
// run` parses them.
func flagConfig(t *testing.T, flags [][2]string) units.Config {
	t.Helper()
	var c units.Config
	for _, f := range flags {
		found := false
		for _, o := range units.Options() {
			if o.Flag == f[0] {
				if err := o.SetFlag(&c, "--"+f[0], f[1]); err != nil {
					t.Fatalf("--%s=%s: %v", f[0], f[1], err)
				}
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("no flag --%s", f[0])
		}
	}
	return c
}
