package units

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// ParseCapabilities parses a --capability= / --drop-capability= value: a
// comma- or space-separated list of capability names, with or without
// the CAP_ prefix, in any case; "all" names every capability. The result
// is canonical ("CAP_SYS_ADMIN"), sorted and without repeats.
func ParseCapabilities(s string) ([]string, error) {
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if strings.EqualFold(w, "all") {
			for name := range systemd.Capabilities {
				seen[name] = true
			}
			continue
		}
		name := strings.ToUpper(w)
		if !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		if _, ok := systemd.Capabilities[name]; !ok {
			return nil, &ValueError{Value: s, Err: fmt.Errorf("unknown capability %q", w)}
		}
		seen[name] = true
	}
	if len(seen) == 0 {
		return nil, &ValueError{Value: s, Err: fmt.Errorf("no capability named")}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// CapabilityNumbers maps canonical names to their numbers.
func CapabilityNumbers(names []string) []int {
	out := make([]int, 0, len(names))
	for _, n := range names {
		if c, ok := systemd.Capabilities[n]; ok {
			out = append(out, c)
		}
	}
	return out
}
